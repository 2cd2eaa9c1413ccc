"""One region's parts, Podium's own embedded adapters: at home the ingest log, db-worker,
store, change feed, rank-worker and rank index; elsewhere the region's ingest log (mirrored
home by `LogMirror`) and a read replica of the rank index, fed by a rank-worker of its own
that reads the home change feed across the link (a regional rank-worker on a mirrored
change topic, docs/global.md)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from podium.cdc.base import Change
from podium.cdc.outbox import OutboxChangeFeed
from podium.domain.totals import Total
from podium.errors import BackendUnavailable
from podium.index.memory import MemoryRankIndex
from podium.log.sqlite import SqliteLog
from podium.pipeline.db_worker import DbWorker, DbWorkerSettings
from podium.pipeline.ingest import Ingest
from podium.pipeline.rank_worker import RankWorker, RankWorkerSettings
from podium.store.sqlite import SqliteStore
from podium.tools.simulate.link import Link
from podium.tools.simulate.mirror import RETRY_FIRST_S, RETRY_MAX_S, LogMirror
from podium.usecases.board_settings import Boards
from podium.visibility.local import LocalVisibility

WAIT_S = 0.2  # how long a fetch waits at the far end for something new


class SeenAt(LocalVisibility):
    """The region's visibility, which also records when each version of each user's total
    reached the region's index: staleness is read from it after the run."""

    def __init__(self, index: MemoryRankIndex) -> None:
        super().__init__(index)
        self.versions: dict[str, list[tuple[float, int]]] = defaultdict(list)

    def applied(self, totals: Sequence[Total]) -> None:
        now = time.monotonic()
        for t in totals:
            self.versions[t.user_id].append((now, t.version))
        super().applied(totals)


class LinkedChangeFeed:
    """The home change feed read from another region across a link. The position is kept
    in the region; a fetch repeated after a lost answer gives changes the index has, and
    it applies a total only if newer."""

    def __init__(self, feed: OutboxChangeFeed, link: Link) -> None:
        self._feed = feed
        self._link = link

    async def poll(self, max_changes: int, timeout_s: float) -> list[Change]:
        return await self._link.call(partial(self._feed.poll, max_changes, timeout_s))

    async def commit(self, changes: Sequence[Change]) -> None:
        await self._feed.commit(changes)

    async def rewind(self) -> None:
        await self._feed.rewind()

    async def close(self) -> None:
        await self._feed.close()


@dataclass
class Region:
    name: str
    log: SqliteLog  # the region's ingest log; at home also the one the db-worker reads
    ingest: Ingest
    index: MemoryRankIndex  # at home the primary, elsewhere the region's read replica
    seen: SeenAt
    loops: list[Callable[[asyncio.Event], Coroutine[Any, Any, None]]] = field(default_factory=list)


async def keep_running(
    step: Callable[[], Awaitable[object]], recover: Callable[[], Awaitable[None]], stop: asyncio.Event
) -> None:
    """Run `step` until `stop`; after a backend or link failure, `recover` and retry with a
    backoff (the supervisor's is for crashes: up to 5 s, and a logged trace each time)."""
    backoff_s = RETRY_FIRST_S
    while not stop.is_set():
        try:
            await step()
        except BackendUnavailable:
            await recover()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), backoff_s)
            backoff_s = min(backoff_s * 2, RETRY_MAX_S)
        else:
            backoff_s = RETRY_FIRST_S


def _ingest_log(path: Path) -> SqliteLog:
    # "normal": an appended record survives a process crash (the simulation crashes none).
    return SqliteLog(path, synchronous="normal")


@contextlib.asynccontextmanager
async def home_region(name: str, data: Path) -> AsyncIterator[tuple[Region, SqliteStore, Boards]]:
    """The home region: ingest log, db-worker, store, change feed, rank-worker, rank index
    (`data` exists)."""
    log, store = _ingest_log(data / "log.db"), SqliteStore(data / "store.db", synchronous="normal")
    await log.open()
    await store.open()
    boards, index = Boards(store), MemoryRankIndex()
    seen = SeenAt(index)
    feed = OutboxChangeFeed(store, after_seq=0)
    consumer = log.consumer("db-worker")
    db_worker = DbWorker(consumer, store, boards, DbWorkerSettings(poll_timeout_s=WAIT_S))
    rank_worker = RankWorker(feed, index, boards, seen, RankWorkerSettings(poll_timeout_s=WAIT_S))
    region = Region(name, log, Ingest(log, region=name), index, seen)
    region.loops += [
        partial(keep_running, db_worker.run_once, db_worker.recover),
        partial(keep_running, rank_worker.run_once, rank_worker.recover),
    ]
    try:
        yield region, store, boards
    finally:
        await feed.close()
        await log.close()
        await store.close()


@contextlib.asynccontextmanager
async def remote_region(
    name: str, data: Path, home: Region, store: SqliteStore, boards: Boards, link: Link
) -> AsyncIterator[tuple[Region, LogMirror]]:
    """A region away from home: its ingest log, mirrored home across `link`, and a read
    replica of the rank index fed from the home change feed across the same link."""
    log = _ingest_log(data / "log.db")
    await log.open()
    index = MemoryRankIndex()
    seen = SeenAt(index)
    feed = LinkedChangeFeed(OutboxChangeFeed(store, after_seq=0), link)
    # The board definitions are read from the home store directly: they change rarely, and a
    # real region reads them from its Cassandra datacenter's replica (docs/global.md).
    rank_worker = RankWorker(feed, index, boards, seen, RankWorkerSettings(poll_timeout_s=WAIT_S))
    mirror = LogMirror(name, log, home.log, link, wait_s=WAIT_S)
    region = Region(name, log, Ingest(log, region=name), index, seen)
    region.loops += [mirror.run, partial(keep_running, rank_worker.run_once, rank_worker.recover)]
    try:
        yield region, mirror
    finally:
        await feed.close()
        await log.close()
