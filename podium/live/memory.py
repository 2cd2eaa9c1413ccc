"""The in-process live hub (embedded profile): the rank-worker and the api share a process."""

from __future__ import annotations

import time
from collections import defaultdict, deque
from collections.abc import Sequence

from podium.live.base import Applied, Change, Subscription, after


class MemoryLiveHub:
    """Sequence numbers start, in each process, after a base taken from the clock when it
    starts (a million a second of uptime), so a restarted process never hands out the
    numbers of the one before: a client resuming from an old number is below the new
    history and gets a snapshot, never another process's changes under its old numbers."""

    def __init__(self, *, history: int = 1000, base: int | None = None) -> None:
        self._history_size = history
        start = int(time.time()) * 1_000_000 if base is None else base  # < 2**53 until the year 2255
        self._base = start
        self._seq: dict[str, int] = defaultdict(lambda: start)
        self._history: dict[str, deque[Change]] = {}
        self._subs: dict[str, set[Subscription]] = defaultdict(set)

    async def publish(self, board: str, applied: Sequence[Applied]) -> list[Change]:
        if not applied:
            return []
        first = self._seq[board] + 1
        changes = [Change(first + i, a.user_id, a.score, a.rank, a.version, a.hidden) for i, a in enumerate(applied)]
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
        return self._seq.get(board, self._base)

    async def since(self, board: str, seq: int) -> list[Change] | None:
        return after(self._history.get(board, ()), self._seq.get(board, self._base), seq)

    async def close(self) -> None:
        self._subs.clear()
