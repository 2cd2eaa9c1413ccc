"""The rank-worker's live publish takes the ranks of a whole batch from `apply_ranked`,
which the reference index reads from its sorted keys as it applies (at most one `entries`
call): reading them one user at a time was most of the worker's time (bench), and a batch
of thousands asked a Redis client for thousands of connections at once."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.index.base import Entry
from podium.index.memory import MemoryRankIndex
from podium.live.memory import MemoryLiveHub
from podium.pipeline.rank_worker import RankWorker


class CountingIndex(MemoryRankIndex):
    """The reference index, counting the reads it is asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.single_reads = 0
        self.bulk_reads: list[int] = []

    async def entry(self, board: Board, user_id: str) -> Entry | None:
        self.single_reads += 1
        return await super().entry(board, user_id)

    async def entries(self, board: Board, user_ids: Sequence[str]) -> list[Entry | None]:
        self.bulk_reads.append(len(user_ids))
        return [await super(CountingIndex, self).entry(board, u) for u in user_ids]


async def test_a_big_batch_reads_its_ranks_in_one_call() -> None:
    board = Board("big")
    index = CountingIndex()
    totals = [Total(board.name, f"u{i:04d}", i, 1, i, LogPosition(0, i)) for i in range(2000)]
    done, ranks = await index.apply_ranked(board, totals)
    hub = MemoryLiveHub(history=10_000)
    subscription = await hub.subscribe(board.name)
    worker: Any = RankWorker(None, index, None, None, None, live=hub)  # type: ignore[arg-type]
    await worker._publish(hub, board, done, await worker._shown_ranks(board, done, ranks))
    assert index.single_reads == 0 and index.bulk_reads in ([], [2000]), (index.bulk_reads, index.single_reads)
    changes, _ = subscription.take()
    assert len(changes) == 2000  # every user published, each with its rank
    assert {c.user_id: c.rank for c in changes}["u1999"] == 1
    assert all(c.rank is not None for c in changes)
