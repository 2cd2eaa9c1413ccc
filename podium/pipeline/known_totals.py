"""The totals a db-worker has read or written for the users of its log partitions.

A user's events all go through one log partition, and a partition has one db-worker at a
time: while it keeps its partitions, nobody else writes its users' totals, so what it
wrote last is what the store holds and it need not read the store again before applying
the user's next event. The store stays the truth; this is a copy valid only

- within one tenure of the consumer (`LogConsumer.tenure`): after a rebalance, a rewind
  or a restart another worker may have applied records meanwhile;
- for totals the store acknowledged: a batch whose write failed drops everything, since
  a part of it may be written and the rest not;
- while the board is the one it was read for: a deleted board drops its users (the one
  write to totals outside the db-worker; removals, bans and privacy deletes are records
  in the log like any score).

Bounded: the least recently used user goes first, and a user it no longer holds is read
from the store as before.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence

from podium.domain.totals import Total
from podium.domain.windows import split_period_board
from podium.store.base import UserKey

MAX_USERS = 100_000  # ~540 B a user held (measured with tracemalloc): ~55 MB at most


class KnownTotals:
    def __init__(self, max_users: int = MAX_USERS) -> None:
        self._max_users = max_users
        self._totals: OrderedDict[UserKey, Total] = OrderedDict()
        self._by_board: dict[str, int] = {}  # users held per board, to drop a board's at once
        self.tenure: object = None  # the consumer's tenure these totals were learnt in

    def __len__(self) -> int:
        return len(self._totals)

    def take(self, users: Iterable[UserKey]) -> tuple[dict[UserKey, Total], list[UserKey]]:
        """The totals held of `users`, and the users to read from the store."""
        found: dict[UserKey, Total] = {}
        missing: list[UserKey] = []
        for user in users:
            total = self._totals.get(user)
            if total is None:
                missing.append(user)
            else:
                self._totals.move_to_end(user)
                found[user] = total
        return found, missing

    def remember(self, totals: Sequence[Total]) -> None:
        """Totals the store holds now (read, or written and acknowledged)."""
        for t in totals:
            user = (t.board, t.user_id)
            if user not in self._totals:
                self._by_board[t.board] = self._by_board.get(t.board, 0) + 1
            self._totals[user] = t
            self._totals.move_to_end(user)
        while len(self._totals) > self._max_users:
            (board, _), _ = self._totals.popitem(last=False)
            self._forget_one(board)

    def forget_board(self, board: str) -> None:
        """Drop the users of a board and of its windows' periods (the board is gone)."""
        stored = {b for b in self._by_board if b == board or (split_period_board(b) or ("",))[0] == board}
        if stored:
            for user in [u for u in self._totals if u[0] in stored]:
                del self._totals[user]
            for b in stored:
                del self._by_board[b]

    def clear(self) -> None:
        self._totals.clear()
        self._by_board.clear()

    def _forget_one(self, board: str) -> None:
        left = self._by_board[board] - 1
        if left:
            self._by_board[board] = left
        else:
            del self._by_board[board]
