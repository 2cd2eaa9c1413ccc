"""The rank-worker's live publish reads each applied user's rank, a bounded number at a
time: a batch of thousands must not ask a Redis client for thousands of connections."""

from __future__ import annotations

import asyncio
from typing import Any

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.index.base import Entry
from podium.index.memory import MemoryRankIndex
from podium.live.memory import MemoryLiveHub
from podium.rank_worker import RANK_READS_AT_ONCE, RankWorker


class CountingIndex(MemoryRankIndex):
    """The reference index, counting how many entry reads are in flight at once."""

    def __init__(self) -> None:
        super().__init__()
        self.in_flight = 0
        self.most = 0

    async def entry(self, board: Board, user_id: str) -> Entry | None:
        self.in_flight += 1
        self.most = max(self.most, self.in_flight)
        await asyncio.sleep(0)  # a real read yields to the loop: let the others start
        try:
            return await super().entry(board, user_id)
        finally:
            self.in_flight -= 1


async def test_a_big_batch_reads_ranks_a_pool_at_a_time() -> None:
    board = Board("big")
    index = CountingIndex()
    totals = [Total(board.name, f"u{i:04d}", i, 1, i, LogPosition(0, i)) for i in range(2000)]
    index.apply_now(board, totals)
    hub = MemoryLiveHub(history=10_000)
    subscription = await hub.subscribe(board.name)
    worker: Any = RankWorker(None, index, None, None, None, live=hub)  # type: ignore[arg-type]
    await worker._publish(hub, board, totals)
    assert 1 < index.most <= RANK_READS_AT_ONCE
    changes, _ = subscription.take()
    assert len(changes) == 2000  # every user published, each with its rank
    assert {c.user_id: c.rank for c in changes}["u1999"] == 1
    assert all(c.rank is not None for c in changes)
