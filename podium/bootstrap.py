"""The composition root: the one place that turns settings into adapters and services."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator
from dataclasses import dataclass

from podium.boards import Boards
from podium.cdc.outbox import OutboxChangeFeed
from podium.db_worker import DbWorker, DbWorkerSettings
from podium.domain.totals import Total
from podium.index.base import RankIndex
from podium.index.memory import MemoryRankIndex
from podium.ingest import Ingest
from podium.log.sqlite import SqliteLog
from podium.rank_worker import RankWorker, RankWorkerSettings
from podium.settings import Settings
from podium.store.sqlite import SqliteStore
from podium.supervisor import WorkerState, supervise
from podium.visibility import LocalVisibility, Visibility

log = logging.getLogger("podium.bootstrap")


@dataclass(frozen=True, slots=True)
class Services:
    """What the API needs, built once at start and handed to every handler."""

    settings: Settings
    boards: Boards
    ingest: Ingest
    index: RankIndex
    visibility: Visibility
    workers: tuple[WorkerState, ...]


@contextlib.asynccontextmanager
async def open_services(settings: Settings) -> AsyncIterator[Services]:
    """Open the embedded pipeline: log, store, rank index and the workers between them."""
    settings.data.mkdir(parents=True, exist_ok=True)
    score_log = SqliteLog(settings.data / "log.db", synchronous=settings.sqlite_sync)
    store = SqliteStore(settings.data / "store.db", synchronous=settings.sqlite_sync)
    await score_log.open()
    await store.open()
    boards = Boards(store)
    index = MemoryRankIndex()
    after_seq = await _rebuild(store, boards, index)
    feed = OutboxChangeFeed(store, after_seq=after_seq)
    visibility = LocalVisibility(index)
    db_worker = DbWorker(
        score_log.consumer("db-worker"),
        store,
        boards,
        DbWorkerSettings(idempotency_window_s=settings.idempotency_window_s),
    )
    rank_worker = RankWorker(feed, index, boards, visibility, RankWorkerSettings())

    async def housekeeping(stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), settings.housekeeping_interval_s)
            if stop.is_set():
                break
            await score_log.prune(settings.log_retention_s)
            await store.forget_keys(int((time.time() - settings.idempotency_window_s) * 1_000_000))
            await feed.prune(settings.changes_kept)

    async def nothing() -> None:
        return None

    stop = asyncio.Event()
    states = (WorkerState("db-worker"), WorkerState("rank-worker"), WorkerState("housekeeping"))
    tasks = [
        asyncio.create_task(supervise(states[0], db_worker.run, db_worker.recover, stop)),
        asyncio.create_task(supervise(states[1], rank_worker.run, rank_worker.recover, stop)),
        asyncio.create_task(supervise(states[2], housekeeping, nothing, stop)),
    ]
    try:
        yield Services(settings, boards, Ingest(score_log), index, visibility, states)
    finally:
        # Cancelling a worker mid-batch is safe by design: its offsets are not
        # committed, and the redelivered batch is recognised and applied once.
        stop.set()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await feed.close()
        await score_log.close()
        await store.close()
        await index.close()


async def _rebuild(store: SqliteStore, boards: Boards, index: MemoryRankIndex) -> int:
    """Fill the in-memory index from the store; returns the change sequence it reflects."""
    started = time.monotonic()
    seq, totals = await store.snapshot()
    by_board: dict[str, list[Total]] = defaultdict(list)
    for t in totals:
        by_board[t.board].append(t)
    for name, board_totals in by_board.items():
        board = await boards.find(name)
        if board is not None:
            index.apply_now(board, board_totals)
    log.info(
        "rank index rebuilt from the store",
        extra={"totals": len(totals), "boards": len(by_board), "seconds": round(time.monotonic() - started, 3)},
    )
    return seq
