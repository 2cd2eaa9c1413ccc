"""Cohorts and tiers (issue 22): users placed in cohorts as they arrive, reads ranked within
a cohort, and each entry's tier.

Placing is the db-worker's (`Placement`): it meets a user's scores in log order, before the
user's first total is written, so a user ranked on the board always has a cohort, and the
log's order is the arrival order. Each placement is one conditional write in the cohort
store (podium/cohorts/); a user placed before is answered its cohort, so a redelivered
batch or a retried score places no one twice. A user removed from the board (a removal, or
a privacy delete's) gives its seat up when the db-worker meets the removal, in the same log
order: the next new user of the board takes it, so cohorts stay exactly N.

A cohort's ranking is read, not stored: its members' totals on the board (or on the
window's period board the read names) ranked among themselves by the board's own rule
(`Standings.ranked_apart`). A read costs the cohort, never the board: the member list (kept
a moment once the cohort is full, `KeptMembers`), then one lookup of those members' totals
without their places on the board (`RankIndex.unplaced`), ranked in Python. A cohort holds
at most `domain.cohorts.MAX_COHORT_SIZE` users, so that is at most a lookup of that many;
and every window of the board ranks its cohorts without a stored board of their own.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from podium.cohorts.base import CohortStore
from podium.domain.boards import Board, Order
from podium.domain.cohorts import needs_count, tier_of
from podium.errors import InvalidInput, NotFound
from podium.index.base import Entry
from podium.usecases.ranks import tie_group
from podium.usecases.standings import Standings

REMEMBERED = 100_000  # users the db-worker knows placed, before it forgets them all (then reads again)
# A full cohort's members, kept this long by a reader. Its seats never change but for a seat
# given back (two placements of one user at once, podium/cohorts/cassandra.py) or a board
# deleted in another process and made again: a few seconds bound how long either shows.
FULL_KEPT_S = 2.0
KEPT_COHORTS = 1_000  # full cohorts kept at most, the least recently read dropped first


class UnknownCohort(NotFound):
    code = "unknown_cohort"


def base_name(board: Board) -> str:
    """The board the user created: cohorts are the board's, shared by every window's periods."""
    return board.parent if board.parent is not None else board.name


class Placement:
    """The db-worker's part: place each new user of a board with cohorts, in arrival order."""

    def __init__(self, store: CohortStore, *, remembered: int = REMEMBERED) -> None:
        self._store = store
        self._remembered = remembered
        self._placed: set[tuple[str, str]] = set()  # placed for sure: no store call again

    async def seat(self, moves: Sequence[tuple[Board, str, bool]]) -> None:
        """Each (board, user, arrives) in log order: a score (True) places a new user, a
        removal (False) gives the user's seat up. Scores between two removals are placed
        together (`place`); removals are rare (a player leaving, a privacy delete)."""
        arrivals: list[tuple[Board, str]] = []
        for board, user_id, arrives in moves:
            if board.cohort_size is None:
                continue
            if arrives:
                arrivals.append((board, user_id))
                continue
            await self.place(arrivals)
            arrivals = []
            await self.free(board, user_id)
        await self.place(arrivals)

    async def free(self, board: Board, user_id: str) -> None:
        """Give the removed user's seat up: if it scores again, it is a new user."""
        name = base_name(board)
        self._placed.discard((name, user_id))
        await self._store.free(name, user_id)

    async def place(self, arrivals: Sequence[tuple[Board, str]]) -> None:
        """Place each (board, user) of a score, in the order given; a user placed before stays
        put. A board's users of the batch are placed together (one transaction in SQLite)."""
        waiting: dict[str, tuple[int, dict[str, None]]] = {}  # board → (cohort size, its new users in order)
        for board, user_id in arrivals:
            if board.cohort_size is None:
                continue
            name = base_name(board)
            if (name, user_id) in self._placed:
                continue
            waiting.setdefault(name, (board.cohort_size, {}))[1][user_id] = None
        for name, (size, users) in waiting.items():
            await self._store.place_all(name, list(users), size)
            if len(self._placed) + len(users) > self._remembered:
                self._placed.clear()
            self._placed.update((name, u) for u in users)

    def forget_board(self, name: str) -> None:
        """A board deleted in this process: made again, its users are placed afresh."""
        self._placed = {p for p in self._placed if p[0] != name}


@dataclass(frozen=True, slots=True)
class CohortView:
    """One cohort's members ranked among themselves, best first."""

    cohort: int
    entries: list[Entry]  # ranks within the cohort, under the board's tie policy
    members: frozenset[str] = frozenset()  # every member, ranked or not (a removed one is not)

    def count(self) -> int:
        return len(self.entries)

    def page(self, first: int, count: int) -> list[Entry]:
        return self.entries[first - 1 : first - 1 + count]

    def entry(self, user_id: str) -> Entry | None:
        return next((e for e in self.entries if e.user_id == user_id), None)

    def better_than(self, board: Board, entry: Entry) -> int:
        """How many members' (total, subscore) rank strictly above the entry's."""
        group = tie_group(board, entry)
        return next((i for i, e in enumerate(self.entries) if tie_group(board, e) == group), len(self.entries))

    def around(self, user_id: str, radius: int) -> list[Entry] | None:
        at = next((i for i, e in enumerate(self.entries) if e.user_id == user_id), None)
        if at is None:
            return None
        return self.entries[max(0, at - radius) : at + radius + 1]


class KeptMembers:
    """Full cohorts' member lists as last read, each for `kept_s`, at most `size` of them. A
    cohort with a free seat is never kept: the next user placed would be missed."""

    def __init__(self, kept_s: float, size: int = KEPT_COHORTS, clock: Callable[[], float] = time.monotonic) -> None:
        self._kept_s, self._size, self._clock = kept_s, size, clock
        self._kept: OrderedDict[tuple[str, int], tuple[float, list[str]]] = OrderedDict()

    def get(self, board: str, cohort: int) -> list[str] | None:
        found = self._kept.get((board, cohort))
        if found is None:
            return None
        if found[0] <= self._clock():
            del self._kept[(board, cohort)]
            return None
        self._kept.move_to_end((board, cohort))
        return found[1]

    def put(self, board: str, cohort: int, members: list[str], size: int) -> None:
        if self._kept_s <= 0 or len(members) < size:
            return
        self._kept[(board, cohort)] = (self._clock() + self._kept_s, members)
        self._kept.move_to_end((board, cohort))
        while len(self._kept) > self._size:
            self._kept.popitem(last=False)

    def forget(self, board: str) -> None:
        for key in [k for k in self._kept if k[0] == board]:
            del self._kept[key]


class Cohorts:
    def __init__(self, store: CohortStore, standings: Standings, *, full_kept_s: float = FULL_KEPT_S) -> None:
        self._store = store
        self._standings = standings
        self._kept = KeptMembers(full_kept_s)

    async def drop(self, board: Board) -> None:
        """Forget the deleted board's cohorts: made again, it places its users afresh."""
        if board.cohort_size is not None:
            self._kept.forget(base_name(board))
            await self._store.drop(base_name(board))

    async def cohort_of(self, board: Board, user_id: str) -> int | None:
        if board.cohort_size is None:
            return None
        return await self._store.cohort_of(base_name(board), user_id)

    async def chosen(self, board: Board, asked: str | None, user_id: str | None) -> int | None:
        """The cohort a read's `cohort=` names: `me`, the caller's (`user_id`), or a cohort's
        number. None: the read is of the whole board."""
        if asked is None:  # an empty one is refused, as the document says (its pattern)
            return None
        if board.cohort_size is None:
            raise InvalidInput(f"board {base_name(board)!r} has no cohorts (set cohort_size)", code="no_cohorts")
        if asked == "me":
            if user_id is None:
                raise InvalidInput("cohort=me needs user_id: whose cohort", code="cohort_needs_user")
            mine = await self._store.cohort_of(base_name(board), user_id)
            if mine is None:
                raise UnknownCohort(f"user {user_id!r} is in no cohort of board {base_name(board)!r} (no score yet)")
            return mine
        number = int(asked) if asked.isascii() and asked.isdigit() and len(asked) <= 9 else 0
        if number < 1:
            raise InvalidInput("cohort must be me or a cohort's number (1, 2, …)", code="invalid_cohort")
        return number

    async def view(self, board: Board, cohort: int, viewer: str | None = None) -> CohortView:
        """The cohort's members ranked on `board` (a window's period board ranks the period).
        A shadow-banned member is left out, but for its own view (`viewer`)."""
        members = await self.known(board, cohort)
        ranked = await self._standings.ranked_apart(board, members, viewer)
        return CohortView(cohort, ranked, frozenset(members))

    async def known(self, board: Board, cohort: int) -> list[str]:
        """The cohort's members; a cohort nobody is placed in yet is refused (a 404)."""
        members = await self.members(board, cohort)
        if not members:
            raise UnknownCohort(f"board {base_name(board)!r} has no cohort {cohort}")
        return members

    async def members(self, board: Board, cohort: int) -> list[str]:
        """The cohort's users (empty: no such cohort): a full one's as kept, if lately read."""
        name = base_name(board)
        kept = self._kept.get(name, cohort)
        if kept is not None:
            return kept
        members = await self._store.members(name, cohort)
        if board.cohort_size is not None:
            self._kept.put(name, cohort, members, board.cohort_size)
        return members


def tiers_of(board: Board, entries: Sequence[Entry], users: int | None) -> list[str | None] | None:
    """Each entry's tier (None for the list: the board has no tiers). `users`: how many are
    ranked where `entries` rank (the cohort, or the board), needed for a tier by place."""
    if not board.tiers:
        return None
    if users is None and needs_count(board.tiers):
        raise ValueError("a tier by place needs the count of users ranked")
    desc = board.order is Order.DESC
    return [tier_of(board.tiers, desc, e.score, e.rank, users or 0) for e in entries]
