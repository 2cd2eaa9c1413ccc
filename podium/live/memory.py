"""The in-process live hub (embedded profile): the rank-worker and the api share a process."""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Sequence

from podium.live.base import Applied, Change, Subscription, after


class MemoryLiveHub:
    """Sequence numbers start at 1 when the process starts; a client resuming from a number
    the new process has not reached gets a snapshot (see docs/architecture.md)."""

    def __init__(self, *, history: int = 1000) -> None:
        self._history_size = history
        self._seq: dict[str, int] = defaultdict(int)
        self._history: dict[str, deque[Change]] = {}
        self._subs: dict[str, set[Subscription]] = defaultdict(set)

    async def publish(self, board: str, applied: Sequence[Applied]) -> list[Change]:
        if not applied:
            return []
        first = self._seq[board] + 1
        changes = [Change(first + i, a.user_id, a.score, a.rank, a.version) for i, a in enumerate(applied)]
        self._seq[board] = changes[-1].seq
        history = self._history.setdefault(board, deque(maxlen=self._history_size))
        history.extend(changes)
        for sub in list(self._subs.get(board, ())):
            sub.deliver(changes)
        return changes

    async def subscribe(self, board: str) -> Subscription:
        sub = Subscription(board, self._history_size)
        self._subs[board].add(sub)
        return sub

    def unsubscribe(self, subscription: Subscription) -> None:
        subs = self._subs.get(subscription.board)
        if subs is not None:
            subs.discard(subscription)
            if not subs:
                del self._subs[subscription.board]

    async def last_seq(self, board: str) -> int:
        return self._seq.get(board, 0)

    async def since(self, board: str, seq: int) -> list[Change] | None:
        return after(self._history.get(board, ()), self._seq.get(board, 0), seq)

    async def close(self) -> None:
        self._subs.clear()
