"""Replay: re-apply the change log from an offset or a time into the rank index.

Harmless by design: changes are absolute totals with versions, and the index applies
only those newer than what it holds. So a replay repairs an index that lost writes
(a Redis that lost its data, say) and changes nothing in one that did not.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict

from podium.cdc.base import ChangeHistory, ReplayStart
from podium.domain.totals import Total
from podium.index.base import RankIndex
from podium.usecases.board_settings import Boards
from podium.usecases.jobs import Job

log = logging.getLogger("podium.usecases.replay")

CHUNK_SIZE = 5000


async def replay(
    job: Job,
    history: ChangeHistory,
    boards: Boards,
    index: RankIndex,
    start: ReplayStart,
    *,
    chunk_size: int = CHUNK_SIZE,
) -> None:
    """Apply every change from `start` on (up to those logged when it began), reporting to `job`."""
    job.step = "counting"
    job.total = await history.count(start)
    job.step = "replaying"
    async for changes in history.read(start, chunk_size):
        by_board: dict[str, list[Total]] = defaultdict(list)
        for change in changes:
            by_board[change.total.board].append(change.total)
        for name, totals in by_board.items():
            board = await boards.find(name)
            if board is None:
                log.error("skipping replayed changes for unknown board", extra={"board": name})
                continue
            job.applied += len(await index.apply(board, totals))
        job.done += len(changes)
        await asyncio.sleep(0)  # the embedded index applies on the serving loop: let reads in
    log.info("change log replayed", extra={"changes": job.done, "applied": job.applied})
