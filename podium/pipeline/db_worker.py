"""log → store: apply each submission to its user's total, exactly once.

Exactly once, because:
- a record already applied is recognised by the log position stored with the
  total (a redelivery after a crash between store write and offset commit);
- an idempotency key applied on the same board within the window is not applied
  again (a client retry), though it still produces a new version so that the
  retry's `wait=true` returns;
- the consumer offset is committed only after the store write is durable;
- one user's events on a board all come through one region's log (docs/global.md): the
  region the first came through is recorded with the total, and an event from another is
  refused (counted `wrong_region`, logged), since its position does not compare.

Cheap, because the worker owns its partitions' users: it keeps the totals it wrote
(podium/pipeline/known_totals.py) and reads the store only for users it has not seen in the
consumer's current tenure; each user's total is written once a batch. Likewise the
idempotency keys it applied itself (podium/pipeline/known_keys.py): a client's retry of one
is known a duplicate without a store read.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from podium.domain.boards import Board
from podium.domain.totals import (
    Event,
    ScoreSubmitted,
    Total,
    UserHidden,
    UserRemoved,
    apply_event,
    entered_elsewhere,
    is_redelivery,
    with_step,
)
from podium.errors import InvalidRecord
from podium.log.base import LogConsumer, LogRecord
from podium.pipeline.codec import decode_event
from podium.pipeline.known_keys import MAX_KEYS, KnownKeys
from podium.pipeline.known_totals import MAX_USERS, KnownTotals
from podium.plumbing import metrics
from podium.store.base import AppliedKey, IdempotencyKey, Store, UserKey
from podium.usecases.board_settings import Boards
from podium.usecases.cohorts import Placement
from podium.usecases.period_boards import kept_period_boards, period_boards_of

log = logging.getLogger("podium.pipeline.db_worker")


@dataclass(frozen=True, slots=True)
class DbWorkerSettings:
    # Records a poll takes at most. A poll takes only what is already fetched, so a worker
    # keeping up writes small batches (latency unchanged), and one behind writes big ones:
    # its Cassandra requests are one a partition a batch (reads and writes), so 5,000
    # records cost about as many requests as 1,000 (docs/benchmarks.md, "The db stage: one
    # request a partition").
    batch_size: int = 5000
    poll_timeout_s: float = 0.5
    idempotency_window_s: float = 24 * 3600
    known_users: int = MAX_USERS  # totals kept between batches (0: read every user each batch)
    known_keys: int = MAX_KEYS  # idempotency keys applied by this worker, kept (0: read every key)
    # A worker that did not poll for this long may have been dropped from its group (its
    # session timed out: a paused process) and its partitions applied by another meanwhile,
    # before its consumer hears of the rebalance: it forgets what it knew. Under the
    # consumer's session time-out (10 s).
    known_for_s: float = 5.0
    # The region each ingest topic's records entered through, where this worker reads several
    # (home, with regions: `scores.ingest` is home's, `eu.scores.ingest` eu's): recorded with
    # each user's first total and checked for every later event. Empty (one region): no region
    # is recorded nor checked.
    topic_regions: Mapping[str, str] = field(default_factory=dict)
    # The totals a user passed through within a batch, carried with the one written (at most
    # this many; 0: none): the rank history's points for every change (PODIUM_HISTORY_POINTS).
    keep_steps: int = 0


@dataclass(slots=True)
class BatchResult:
    records: int = 0
    written: int = 0
    redelivered: int = 0
    duplicate_keys: int = 0
    invalid: int = 0
    wrong_region: int = 0


class DbWorker:
    def __init__(
        self,
        consumer: LogConsumer,
        store: Store,
        boards: Boards,
        settings: DbWorkerSettings,
        cohorts: Placement | None = None,
    ) -> None:
        self._cohorts = cohorts  # places new users of boards with cohorts (usecases/cohorts.py)
        if cohorts is not None:
            boards.on_delete(cohorts.forget_board)
        self._consumer = consumer
        self._store = store
        self._boards = boards
        self._settings = settings
        self._known = KnownTotals(settings.known_users)
        self._keys = KnownKeys(settings.known_keys)
        boards.on_delete(self._known.forget_board)
        self._last_poll = time.monotonic()

    async def _stored_boards(self, board: Board, event: Event) -> list[Board]:
        """The stored boards an event updates: a score, its board in each window's period of
        the event's time; a ban, every kept period too (a cheater leaves past weeks' boards
        as well); an event addressed to one period's board (a privacy delete), only that."""
        if board.parent is not None or board.windows == ("all",):
            return [board]
        boards = period_boards_of(board, event.submitted_at_us)
        if isinstance(event, UserHidden):
            boards += kept_period_boards(board, event.submitted_at_us)
        return boards

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.run_once()

    def _forget(self) -> None:
        self._known.clear()
        self._keys.clear()

    async def recover(self) -> None:
        self._forget()
        await self._consumer.rewind()

    async def run_once(self) -> BatchResult:
        stalled = time.monotonic() - self._last_poll > self._settings.known_for_s
        records = await self._consumer.poll(self._settings.batch_size, self._settings.poll_timeout_s)
        self._last_poll = time.monotonic()
        # Read after the poll: a rebalance is heard of inside it, before its records.
        tenure = self._consumer.tenure()
        if stalled or tenure != self._known.tenure:
            self._forget()
            self._known.tenure = tenure
        if not records:
            return BatchResult()
        result = await self.apply(records)
        await self._consumer.commit(records)  # only now: the store write above is durable
        return result

    async def apply(self, records: Sequence[LogRecord]) -> BatchResult:
        result = BatchResult(records=len(records))
        decoded = []
        for record in records:
            try:
                decoded.append((record, decode_event(record.value)))
            except InvalidRecord as exc:
                result.invalid += 1  # dead-lettered: logged and skipped, never retried forever
                log.error("skipping invalid record", extra={"position": str(record.position), "error": str(exc)})
        # Each event updates its board in every window the board keeps (design: one stored
        # board per window period, `podium/usecases/period_boards.py`): resolved once, before any read.
        targets: list[tuple[LogRecord, Event, list[Board]]] = []
        for record, event in decoded:
            board = await self._boards.find(event.board)
            if board is None:
                self._known.forget_board(event.board)  # deleted: a board made again starts afresh
                result.invalid += 1
                log.error("skipping record for unknown board", extra={"board": event.board})
                continue
            targets.append((record, event, await self._stored_boards(board, event)))
        if self._cohorts is not None:
            # Before any total is written: a user ranked on a board with cohorts has one, a user
            # removed gives its seat to the next new one. In log order.
            await self._cohorts.seat(
                [
                    (bs[0], e.user_id, isinstance(e, ScoreSubmitted))
                    for _, e, bs in targets
                    if isinstance(e, ScoreSubmitted | UserRemoved)
                ]
            )
        users: list[UserKey] = [(b.name, e.user_id) for _, e, boards in targets for b in boards]
        keys: list[IdempotencyKey] = [
            (e.board, e.key) for _, e, _ in targets if isinstance(e, ScoreSubmitted) and e.key
        ]
        current, unknown = self._known.take(dict.fromkeys(users))
        if unknown:
            loaded = await self._store.load_totals(unknown)
            current.update(loaded)
        since_us = int((time.time() - self._settings.idempotency_window_s) * 1_000_000)
        applied_keys, unread = self._keys.take(keys, since_us)
        if unread:
            applied_keys.update(await self._store.applied_keys(unread, since_us))
        written: dict[UserKey, Total] = {}
        new_keys: dict[IdempotencyKey, AppliedKey] = {}
        now_us = time.time_ns() // 1000
        for record, event, boards in targets:
            region = self._settings.topic_regions.get(record.topic, "")
            users_here = [(b.name, event.user_id) for b in boards]
            entered = [entered_elsewhere(written.get(u, current.get(u)), region) for u in users_here]
            if any(entered):
                result.wrong_region += 1  # never applied: no new version, no idempotency key
                log.warning(
                    "refused an event from another region than its user's",
                    extra={
                        "board": event.board,
                        "user": event.user_id,
                        "region": region,
                        "user_region": next(r for r in entered if r),
                        "position": str(record.position),
                    },
                )
                continue
            # A store that cannot write atomically may have written some windows before a
            # crash: the record is a redelivery only where its total is written already.
            boards = [
                b
                for b in boards
                if not is_redelivery(
                    written.get((b.name, event.user_id), current.get((b.name, event.user_id))), record.position
                )
            ]
            if not boards:
                result.redelivered += 1
                continue
            duplicate = False
            if isinstance(event, ScoreSubmitted) and event.key:
                ikey = (event.board, event.key)
                # Applied by another record: a retry. By this one: a redelivery whose
                # total was not written yet (the keys go first), so apply it.
                applied_by = applied_keys.get(ikey)
                duplicate = ikey in new_keys or (applied_by is not None and applied_by != record.position)
                if duplicate:
                    result.duplicate_keys += 1
                else:
                    new_keys[ikey] = AppliedKey(event.board, event.key, now_us, record.position)
            for board in boards:
                user = (board.name, event.user_id)
                earlier = written.get(user)  # this batch's own: the user scored twice in it
                before = earlier if earlier is not None else current.get(user)
                new = apply_event(board, before, event, record.position, duplicate_key=duplicate, region=region)
                if earlier is not None and self._settings.keep_steps:
                    new = with_step(earlier, new, self._settings.keep_steps)
                elif new.steps:
                    new = replace(new, steps="")  # a stored row's steps were its own batch's
                written[user] = new
        if written:
            try:
                await self._store.write_totals(list(written.values()), list(new_keys.values()))
            except BaseException:
                self._forget()  # some may be written and some not: read them all again
                raise
            self._keys.remember(list(new_keys.values()))
        if self._settings.known_users:
            # What the store holds now of every user of the batch, written or only read.
            self._known.remember([t for user, t in current.items() if user not in written])
            self._known.remember(list(written.values()))
        result.written = len(written)
        applied = result.records - result.redelivered - result.duplicate_keys - result.invalid - result.wrong_region
        for outcome, count in (
            ("applied", applied),
            ("redelivered", result.redelivered),
            ("duplicate_key", result.duplicate_keys),
            ("invalid", result.invalid),
            ("wrong_region", result.wrong_region),
        ):
            if count:
                metrics.DB_WORKER_RECORDS.labels(outcome).inc(count)
        return result
