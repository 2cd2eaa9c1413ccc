"""A region's ingest log copied into the home log across a link, exactly once: what
MirrorMaker 2 does between a regional Kafka and the home one (docs/global.md).

The mirror runs at home and fetches from the region ("remote consume, local produce", as
MirrorMaker 2 is deployed), so the records it writes are never lost on the way home. The
records and how far the region's log is copied are written home in one transaction
(`SqliteLog.append_mirrored`): a fetch repeated after a lost answer or a partition gives
records already copied, which are skipped. The commit back to the region only lets the
region prune its log (and is made in the background); a lost commit costs a re-read, never
a duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
from functools import partial

from podium.log.base import LogRecord
from podium.log.sqlite import SqliteLog, SqliteLogConsumer
from podium.tools.simulate.link import Link, LinkDown

RETRY_FIRST_S = 0.1  # a Kafka client's reconnect.backoff.ms (default 50 ms) … max 1 s
RETRY_MAX_S = 1.0


class LogMirror:
    def __init__(
        self, region: str, source: SqliteLog, home: SqliteLog, link: Link, *, batch: int = 500, wait_s: float = 0.2
    ) -> None:
        self.region = region
        self._source = source
        self._home = home
        self._link = link
        self._batch = batch
        self._wait_s = wait_s  # how long a fetch waits at the region for records (fetch.max.wait.ms)
        self.copied = 0
        self.skipped = 0  # records fetched again after a lost answer, and not written twice

    async def run(self, stop: asyncio.Event) -> None:
        consumer = self._source.consumer(f"mirror-{self.region}")  # the client is at home
        next_seq = await self._home.mirrored_next(self.region)
        backoff_s = RETRY_FIRST_S
        committing: asyncio.Task[None] | None = None
        try:
            while not stop.is_set():
                try:
                    records = await self._link.call(partial(consumer.poll, self._batch, self._wait_s))
                    fresh = [r for r in records if r.position.offset >= next_seq]
                    self.skipped += len(records) - len(fresh)
                    if fresh:
                        upto = fresh[-1].position.offset + 1
                        await self._home.append_mirrored(self.region, [(r.key, r.value) for r in fresh], upto)
                        next_seq = upto
                        self.copied += len(fresh)
                    if records and (committing is None or committing.done()):
                        # In the background, as MirrorMaker 2 syncs offsets: a commit waited
                        # for would hold the next fetch back by a round trip.
                        committing = asyncio.create_task(self._commit(consumer, records))
                except LinkDown:
                    # The fetch may have moved the consumer on with its answer lost: back to
                    # the committed position; what home has already is skipped above.
                    await consumer.rewind()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), backoff_s)
                    backoff_s = min(backoff_s * 2, RETRY_MAX_S)
                else:
                    backoff_s = RETRY_FIRST_S
        finally:
            if committing is not None:
                committing.cancel()
                await asyncio.gather(committing, return_exceptions=True)
            await consumer.close()

    async def _commit(self, consumer: SqliteLogConsumer, records: list[LogRecord]) -> None:
        with contextlib.suppress(LinkDown):  # the next commit covers these records too
            await self._link.call(partial(consumer.commit, records))
