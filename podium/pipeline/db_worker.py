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

from podium.domain.boards import Board, is_valid_id
from podium.domain.totals import (
    Event,
    LogPosition,
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
from podium.pipeline.in_flight import BatchResult, Flight, InFlight
from podium.pipeline.known_keys import MAX_KEYS, KnownKeys
from podium.pipeline.known_totals import MAX_USERS, KnownTotals
from podium.plumbing import metrics
from podium.store.base import AppliedKey, IdempotencyKey, Store, UserKey
from podium.usecases.board_settings import Boards
from podium.usecases.cohorts import Placement
from podium.usecases.period_boards import kept_period_boards, period_boards_of

log = logging.getLogger("podium.pipeline.db_worker")


IN_FLIGHT_POLL_S = 0.005  # a poll's wait while writes fly (see DbWorker._poll)


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
    # Batches a worker holds at once, the one being polled and read included: the next is
    # polled, decoded and read while up to `depth - 1` earlier batches' writes fly, their
    # offsets committed in log order once each is durable (podium/pipeline/in_flight.py).
    # More than 1 only with a store whose writes settle by version whatever order they land
    # in (Cassandra: `USING TIMESTAMP <version>`); 1: each batch written and committed
    # before the next poll.
    depth: int = 1


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
        self._flights = InFlight()
        boards.on_delete(self._forget_board)
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
        try:
            while not stop.is_set():
                await self.step()
            await self._land_all()
        except asyncio.CancelledError:
            self._flights.cancel()  # stopped: the writes not landed are dropped, uncommitted
            raise
        except BaseException:
            # A poll or a read failed with writes in flight: they land or fail before the
            # supervisor rewinds, so that none lands after the worker has read the store again.
            await self._flights.settle()
            raise

    def _forget(self) -> None:
        self._known.clear()
        self._keys.clear()

    def _forget_board(self, board: str) -> None:
        self._known.forget_board(board)
        self._flights.forget_board(board)

    async def recover(self) -> None:
        await self._flights.settle()
        self._forget()
        await self._consumer.rewind()

    async def run_once(self) -> BatchResult:
        """One `step`, and every batch it started landed and committed before it returns
        (tests, tools): the worker's own path, one batch at a time."""
        result = await self.step()
        await self._land_all()
        return result

    async def step(self) -> BatchResult:
        """One batch polled and decided while the earlier batches' writes fly (at most
        `depth` batches in all); its write started; the batches landed meanwhile committed,
        in log order. Returns the batch's result as decided (its write may be in flight)."""
        records = await self._poll()
        if not records:
            await self._land_all()  # nothing new: commit what is in flight now, not a poll later
            return BatchResult()
        flight = await self._start(records)
        if self._settings.depth <= 1:
            await self._land_all()  # one batch at a time: written and committed before the next poll
        else:
            # The earlier writes done meanwhile: committed while this one flies.
            while len(self._flights) > 1 and self._flights.oldest_written():
                await self._land_oldest()
        return flight.result

    async def _poll(self) -> list[LogRecord]:
        stalled = time.monotonic() - self._last_poll > self._settings.known_for_s
        # With writes in flight the poll waits only a moment: if nothing comes, they are landed
        # and committed now (`step`), not a whole poll timeout later. Their offsets, the
        # records-applied metrics and the webhooks' watermark would otherwise lag the store.
        wait_s = self._settings.poll_timeout_s
        if len(self._flights):
            wait_s = min(wait_s, IN_FLIGHT_POLL_S)
        records = await self._consumer.poll(self._settings.batch_size, wait_s)
        self._last_poll = time.monotonic()
        # Read after the poll: a rebalance is heard of inside it, before its records.
        tenure = self._consumer.tenure()
        if stalled or tenure != self._known.tenure:
            # The batches in flight are written first (a failed one raises: a rewind), but
            # not committed: their partitions may be another's now. Their records come again
            # to whoever has them and are recognised by the positions written.
            await self._land_all(commit=False)
            self._forget()
            self._known.tenure = tenure
        return records

    async def _land_oldest(self, *, commit: bool = True) -> Flight:
        """Wait for the oldest write in flight; once it is durable, remember what it wrote and
        commit its offsets (every earlier batch's are committed already). A failed write:
        wait for the others to land or fail, forget everything, and raise (the supervisor
        rewinds to the last commit, as after any failed batch)."""
        flight = self._flights.oldest()
        assert flight.write is not None
        try:
            await flight.write
        except BaseException:
            await self._flights.settle()
            self._forget()  # some may be written and some not: read them all again
            raise
        self._flights.landed()
        self._remember(flight)
        if commit:
            await self._consumer.commit(flight.records)
        return flight

    async def _land_all(self, *, commit: bool = True) -> None:
        while len(self._flights):
            await self._land_oldest(commit=commit)

    async def _start(self, records: Sequence[LogRecord], *, commit: bool = True) -> Flight:
        """Decide a batch and start its write, once at most depth - 1 writes fly with it
        (depth 2: the writes one after another, each batch decided while the one before it
        is written); the oldest landed meanwhile are committed unless `commit` is False."""
        flight = await self._decide(records)
        landed = []
        while len(self._flights) and len(self._flights) >= self._settings.depth - 1:
            landed.append(await self._land_oldest(commit=False))
        flight.write = asyncio.create_task(self._write(flight, self._flights.guarding(flight.written)))
        self._flights.add(flight)
        if commit and landed:
            # Their offsets once this write is on its way (its requests sent: the task runs to
            # its first wait), not before: a commit's round trip (7-150 ms on the stack) no
            # longer stands between one write and the next. Still in log order, each after
            # its own write and every earlier one are durable.
            await asyncio.sleep(0)
            await self._consumer.commit([r for f in landed for r in f.records])
        return flight

    async def apply(self, records: Sequence[LogRecord]) -> BatchResult:
        """Decide and write one batch given, not polled, and land it with every batch in
        flight, no offsets committed (tests: a redelivery is a batch applied again)."""
        flight = await self._start(records, commit=False)
        await self._land_all(commit=False)
        return flight.result

    async def _write(self, flight: Flight, guards: Sequence[asyncio.Future[None]]) -> None:
        if guards:
            await asyncio.gather(*guards)  # one failed: this write must not land (it raises too)
        if flight.written:
            await self._store.write_totals(list(flight.written.values()), list(flight.new_keys.values()))

    def _remember(self, flight: Flight) -> None:
        """A batch's write is durable: what the store now holds of its users and keys."""
        if flight.written:
            self._keys.remember(list(flight.new_keys.values()))
        if self._settings.known_users:
            # What the store holds now of every user of the batch, written or only read.
            self._known.remember([t for user, t in flight.read.items() if user not in flight.written])
            self._known.remember(list(flight.written.values()))
        result = flight.result
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

    async def _decide(self, records: Sequence[LogRecord]) -> Flight:
        """What a batch writes, from each user's total before it: a batch in flight's, else
        the one held, else the store's."""
        result = BatchResult(records=len(records))
        flight = Flight(records, result)
        decoded = []
        for record in records:
            try:
                event = decode_event(record.value)
                # The api checks ids before it appends; a record put in the log some other way
                # is checked here: the rank shards' scripts read users as tab-separated rows.
                if not is_valid_id(event.user_id) or "\t" in event.board or "\n" in event.board:
                    raise InvalidRecord(f"invalid user or board: {event.board!r} {event.user_id!r}")
                decoded.append((record, event))
            except InvalidRecord as exc:
                result.invalid += 1  # dead-lettered: logged and skipped, never retried forever
                log.error("skipping invalid record", extra={"position": str(record.position), "error": str(exc)})
        # Each event updates its board in every window the board keeps (design: one stored
        # board per window period, `podium/usecases/period_boards.py`): resolved once, before any read.
        targets: list[tuple[LogRecord, Event, list[Board]]] = []
        # Each board named once a batch, not once a record (a batch is mostly one board's).
        found: dict[str, Board | None] = {}
        for record, event in decoded:
            if event.board in found:
                board = found[event.board]
            else:
                board = found[event.board] = await self._boards.find(event.board)
            if board is None:
                self._forget_board(event.board)  # deleted: a board made again starts afresh
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
        users = dict.fromkeys((b.name, e.user_id) for _, e, boards in targets for b in boards)
        keys: list[IdempotencyKey] = [
            (e.board, e.key) for _, e, _ in targets if isinstance(e, ScoreSubmitted) and e.key
        ]
        # A batch in flight's totals first: newer than what is held or stored.
        current: dict[UserKey, Total] = {}
        flying: set[UserKey] = set()
        if len(self._flights):
            for user in users:
                t = self._flights.total(user)
                if t is not None:
                    current[user] = t
            flying = set(current)
        held, unknown = self._known.take(u for u in users if u not in flying)
        current.update(held)
        if unknown:
            loaded = await self._store.load_totals(unknown)
            current.update(loaded)
        since_us = int((time.time() - self._settings.idempotency_window_s) * 1_000_000)
        applied_keys: dict[IdempotencyKey, LogPosition] = {}
        if len(self._flights):
            for ikey in keys:
                position = self._flights.key(ikey)
                if position is not None:
                    applied_keys[ikey] = position
        known_keys, unread = self._keys.take([k for k in keys if k not in applied_keys], since_us)
        applied_keys.update(known_keys)
        if unread:
            applied_keys.update(await self._store.applied_keys(unread, since_us))
        flight.read = current
        written = flight.written
        new_keys = flight.new_keys
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
                    flight.guarded.update(users_here)
            for board in boards:
                user = (board.name, event.user_id)
                earlier = written.get(user)  # this batch's own: the user scored twice in it
                if earlier is None and user in flying and self._settings.depth > 2:
                    # A batch in flight's, whose write may land after ours: the change feed
                    # may then drop it as stale, so ours carries it as a step.
                    earlier = current[user]
                before = earlier if earlier is not None else current.get(user)
                new = apply_event(board, before, event, record.position, duplicate_key=duplicate, region=region)
                if earlier is not None and self._settings.keep_steps:
                    new = with_step(earlier, new, self._settings.keep_steps)
                elif new.steps:
                    new = replace(new, steps="")  # a stored row's steps were its own batch's
                written[user] = new
        result.written = len(written)
        return flight
