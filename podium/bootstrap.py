"""The composition root: the one place that turns settings into adapters and services."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from podium.cohorts.base import CohortStore
from podium.cohorts.sqlite import SqliteCohortStore
from podium.domain.totals import Total
from podium.errors import BackendUnavailable, InvalidInput
from podium.history.base import RankHistory
from podium.index.base import RankIndex
from podium.index.generations import DroppableRankIndex, GenerationalRankIndex, MemoryGenerations, RedisGenerations
from podium.index.memory import MemoryRankIndex
from podium.jobstore.base import JobRecord, JobStore
from podium.jobstore.sqlite import SqliteJobStore
from podium.keystore.base import KeyStore
from podium.limits.base import RateLimiter, SubmissionCounter
from podium.limits.memory import MemoryRateLimiter, MemorySubmissionCounter
from podium.live.base import LiveHub
from podium.live.memory import MemoryLiveHub
from podium.log.base import Log
from podium.log.watermark import SqliteWatermark, Watermark
from podium.pipeline.db_worker import DbWorker, DbWorkerSettings
from podium.pipeline.ingest import Ingest
from podium.pipeline.rank_worker import RankWorker, RankWorkerSettings
from podium.plumbing import metrics, names
from podium.plumbing.supervisor import WorkerState, periodic, supervise
from podium.services import ApiServices, WorkerServices
from podium.settings import Settings
from podium.social.base import SocialIndex
from podium.social.memory import MemorySocialIndex
from podium.store.base import Store
from podium.store.sqlite import SqliteStore
from podium.tournaments.base import TournamentStore
from podium.tournaments.sqlite import SqliteTournamentStore
from podium.usecases.admin_jobs import Admin
from podium.usecases.api_keys import Keys
from podium.usecases.board_settings import Boards
from podium.usecases.cohorts import Cohorts, Placement
from podium.usecases.deliveries import Deliveries, DeliverySettings
from podium.usecases.friends import Friends
from podium.usecases.jobs import Jobs
from podium.usecases.period_boards import drop_expired_periods
from podium.usecases.rank_history import History
from podium.usecases.rebuild import end_abandoned_rebuild
from podium.usecases.reconcile import Reconciler, ReconcileSettings
from podium.usecases.reconcile_schedule import run_every
from podium.usecases.standings import Standings
from podium.usecases.tier_changes import TierChanges
from podium.usecases.tournaments import Tournaments
from podium.usecases.users import Users
from podium.visibility.base import Visibility
from podium.visibility.local import LocalVisibility
from podium.visibility.polling import PollingVisibility
from podium.visibility.redis import RedisVisibility
from podium.webhooks.base import KEPT_S as DELIVERIES_KEPT_S
from podium.webhooks.base import WebhookStore
from podium.webhooks.sqlite import SqliteWebhookStore

if TYPE_CHECKING:
    from podium.store.cassandra import CassandraStore

log = logging.getLogger("podium.bootstrap")

ROLES = ("api", "db-worker", "rank-worker")
Loop = Callable[[asyncio.Event], Awaitable[None]]


class Workers:
    """The worker loops of this process, each supervised, all stopped together."""

    def __init__(self) -> None:
        self.states: list[WorkerState] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._stop = asyncio.Event()

    def start(self, name: str, run: Loop, recover: Callable[[], Awaitable[None]]) -> None:
        state = WorkerState(name)
        self.states.append(state)
        self._tasks.append(asyncio.create_task(supervise(state, run, recover, self._stop), name=name))

    async def stop(self) -> None:
        # Cancelling a worker mid-batch is safe by design: its offsets are not
        # committed, and the redelivered batch is recognised and applied once.
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


@dataclass(frozen=True, slots=True)
class Parts:
    """What a profile opened, whatever roles the process plays: the services are built from it."""

    settings: Settings
    store: Store
    boards: Boards
    index: GenerationalRankIndex
    visibility: Visibility
    social: SocialIndex
    live: LiveHub
    workers: Workers
    admin: Admin
    reconciler: Reconciler

    def worker_services(self) -> WorkerServices:
        return WorkerServices(self.settings, tuple(self.workers.states))

    def api_services(
        self,
        score_log: Log,
        keys: Keys | None,
        limits: tuple[RateLimiter, SubmissionCounter],
        tournament_store: TournamentStore,
        *,
        history: RankHistory | None,
        deliveries: Deliveries,
        cohort_store: CohortStore,
        reads_replicas: bool = False,
    ) -> ApiServices:
        """The one place the API's services are put together, in either profile."""
        settings = self.settings
        ranks = Standings(self.index)  # how every reader shows ranks (podium/usecases/standings.py)
        friends = Friends(self.store, self.social, ranks, max_friends=settings.max_friends)
        ingest = Ingest(score_log, region=settings.region)
        users = Users(
            self.store,
            self.social,
            self.boards,
            ingest,
            self.visibility,
            friends,
            ranks,
            wait_timeout_s=settings.wait_timeout_s,
            region=settings.region,
            history=history,
        )
        rate_limiter, submission_counter = limits
        return ApiServices(
            settings=settings,
            workers=tuple(self.workers.states),
            boards=self.boards,
            ingest=ingest,
            store=self.store,
            index=self.index,
            visibility=self.visibility,
            admin=self.admin,
            reconciler=self.reconciler,
            friends=friends,
            live=self.live,
            users=users,
            keys=keys,
            rate_limiter=rate_limiter,
            submission_counter=submission_counter,
            tournaments=Tournaments(tournament_store, self.boards, rows_kept_s=settings.tournament_rows_kept_s),
            history=History(history, ranks, points=settings.history_points),
            deliveries=deliveries,
            cohorts=Cohorts(cohort_store, ranks),
            reads_replicas=reads_replicas,
        )


@contextlib.asynccontextmanager
async def open_api(settings: Settings, roles: Collection[str] = ROLES) -> AsyncIterator[ApiServices]:
    """Open the pipeline parts an api process plays (`roles`, the api among them; by default
    every role) with the profile's adapters."""
    if "api" not in roles:
        raise ValueError(f"roles {sorted(roles)} have no api: open_workers opens a worker's")
    async with _open(settings, roles) as services:
        assert isinstance(services, ApiServices)
        yield services


@contextlib.asynccontextmanager
async def open_workers(settings: Settings, roles: Collection[str]) -> AsyncIterator[WorkerServices]:
    """Open the worker loops a worker process runs (`roles`, without the api); only the
    distributed profile runs a worker on its own."""
    if "api" in roles or settings.profile != "distributed":
        raise ValueError(f"roles {sorted(roles)} in the {settings.profile} profile: open_api opens an api's")
    async with _open(settings, roles) as services:
        assert isinstance(services, WorkerServices)
        yield services


@contextlib.asynccontextmanager
async def _open(settings: Settings, roles: Collection[str]) -> AsyncIterator[ApiServices | WorkerServices]:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {sorted(unknown)}")
    metrics.REGION_INFO.labels(settings.region, settings.home_region or settings.region).set(1)
    opened = _embedded(settings) if settings.profile == "embedded" else _distributed(settings, roles)
    async with opened as services:
        yield services


@contextlib.asynccontextmanager
async def _embedded(settings: Settings) -> AsyncIterator[ApiServices]:
    """Everything in this process: SQLite log and store, outbox feed, in-memory index.
    Each part is closed by `opened`, last opened first closed, also when the start fails."""
    from podium.cdc.outbox import OutboxChangeFeed, OutboxHistory
    from podium.log.sqlite import SqliteLog

    async with contextlib.AsyncExitStack() as opened:
        settings.data.mkdir(parents=True, exist_ok=True)
        store = SqliteStore(settings.data / "store.db", synchronous=settings.sqlite_sync)
        opened.push_async_callback(store.close)  # before open: a failed open leaves a thread
        await store.open()
        score_log = SqliteLog(settings.data / "log.db", synchronous=settings.sqlite_sync)
        opened.push_async_callback(score_log.close)  # closes its consumers too
        await score_log.open()
        webhook_store = SqliteWebhookStore(settings.data / "webhooks.db")
        opened.push_async_callback(webhook_store.close)
        await webhook_store.open()
        boards = Boards(store)
        memory = MemoryRankIndex()
        social = MemorySocialIndex(fan_out_cap=settings.friends_fan_out_cap)
        opened.push_async_callback(social.close)
        after_seq = await _rebuild(store, boards, memory, social)
        index = GenerationalRankIndex(memory, MemoryGenerations())
        opened.push_async_callback(index.close)
        feed = OutboxChangeFeed(store, after_seq=after_seq)
        opened.push_async_callback(feed.close)
        visibility = LocalVisibility(index)
        cohort_store = SqliteCohortStore(settings.data / "cohorts.db", synchronous=settings.sqlite_sync)
        opened.push_async_callback(cohort_store.close)
        await cohort_store.open()
        db_worker = DbWorker(
            score_log.consumer("db-worker"),
            store,
            boards,
            DbWorkerSettings(
                batch_size=settings.db_worker_batch,
                idempotency_window_s=settings.idempotency_window_s,
                keep_steps=settings.history_points,
            ),
            Placement(cohort_store),
        )
        live = live_hub(settings)
        opened.push_async_callback(live.close)
        rank_history = None
        if settings.history_points > 0:  # 0: off, and the rank-worker reads no ranks for it
            from podium.history.sqlite import SqliteRankHistory

            rank_history = SqliteRankHistory(settings.data / "history.db", points=settings.history_points)
            opened.push_async_callback(rank_history.close)
            await rank_history.open()
        tiers = TierChanges(webhook_store, index, cohort_store)
        rank_worker = RankWorker(
            feed, index, boards, visibility, RankWorkerSettings(), social, live, rank_history, tiers
        )
        tournament_store = SqliteTournamentStore(settings.data / "tournaments.db")
        opened.push_async_callback(tournament_store.close)
        await tournament_store.open()

        async def housekeep() -> None:
            await score_log.prune(settings.log_retention_s)
            await store.forget_keys(int((time.time() - settings.idempotency_window_s) * 1_000_000))
            await feed.prune(settings.changes_kept)
            await drop_expired_periods(store, boards, index, time.time_ns() // 1000, rank_history)
            await webhook_store.forget(int((time.time() - DELIVERIES_KEPT_S) * 1_000_000))
            await tournament_store.forget_expired(time.time_ns() // 1000)

        async def housekeeping(stop: asyncio.Event) -> None:
            await periodic(stop, settings.housekeeping_interval_s, housekeep)

        async def nothing() -> None:
            return None

        workers = Workers()
        opened.push_async_callback(workers.stop)  # the workers stop before what they use closes
        workers.start("db-worker", db_worker.run, db_worker.recover)
        workers.start("rank-worker", rank_worker.run, rank_worker.recover)
        workers.start("housekeeping", housekeeping, nothing)
        job_store = SqliteJobStore(settings.data / "jobs.db")
        opened.push_async_callback(job_store.close)
        await job_store.open()
        jobs = open_jobs(settings, job_store, boards, index)
        admin = Admin(store, boards, index, OutboxHistory(store), jobs, social)
        opened.push_async_callback(admin.close)  # its jobs end before the workers stop
        reconciler = start_reconciler(settings, store, boards, index, workers, jobs, scheduled=True, social=social)
        rate_limiter, submission_counter = MemoryRateLimiter(), MemorySubmissionCounter()
        opened.push_async_callback(submission_counter.close)
        opened.push_async_callback(rate_limiter.close)
        keys = await open_keys(settings)
        if keys is not None:
            opened.push_async_callback(keys.close)
        watermark = SqliteWatermark(settings.data / "log.db", "db-worker")
        opened.push_async_callback(watermark.close)
        deliveries = start_deliveries(settings, webhook_store, boards, store, watermark, workers, opened)
        parts = Parts(settings, store, boards, index, visibility, social, live, workers, admin, reconciler)
        yield parts.api_services(
            score_log,
            keys,
            (rate_limiter, submission_counter),
            tournament_store,
            history=rank_history,
            deliveries=deliveries,
            cohort_store=cohort_store,
        )


@contextlib.asynccontextmanager
async def _distributed(settings: Settings, roles: Collection[str]) -> AsyncIterator[ApiServices | WorkerServices]:
    """Kafka, Cassandra (with Debezium reading its commit log) and Redis. Each part is
    closed by `opened`, last opened first closed, also when the start fails."""
    from podium.cdc.debezium import DebeziumChangeFeed, DebeziumHistory
    from podium.log.kafka import KafkaLog, KafkaLogConsumer

    async with contextlib.AsyncExitStack() as opened:
        store = await asyncio.to_thread(connect_store, settings)
        opened.push_async_callback(store.close)
        await asyncio.to_thread(prepare_distributed, settings, store)
        boards = Boards(store)
        # An api alone in a region with replicas of the index reads its ranks there (docs/global.md);
        # the workers, and an api beside them, write the primaries.
        replicas = set(roles) == {"api"} and bool(settings.redis_read_shards)
        where = read_replicas(settings) if replicas else settings
        # Readers cache the generation record briefly; the old copy outlives that by far.
        index = GenerationalRankIndex(
            redis_rank_index(where), RedisGenerations(redis_directory(where)), read_cache_s=0.25, drop_grace_s=2.0
        )
        opened.push_async_callback(index.close)
        social = redis_social_index(settings)
        opened.push_async_callback(social.close)
        score_log = (
            KafkaLog(
                settings.kafka_bootstrap, names.INGEST_TOPIC, producer_extra={"linger.ms": settings.kafka_linger_ms}
            )
            if "api" in roles
            else None
        )
        if score_log is not None:
            opened.push_async_callback(score_log.close)
        visibility = redis_visibility(settings, index, roles, replicas=replicas)
        opened.push_async_callback(visibility.close)
        live = live_hub(settings)
        opened.push_async_callback(live.close)
        if "api" in roles:
            limits = redis_limits(settings)
            for limit in limits:
                opened.push_async_callback(limit.close)
        workers = Workers()
        from podium.cohorts.cassandra import CassandraCohortStore

        cohort_store = CassandraCohortStore(store)
        await cohort_store.prepare()
        from podium.webhooks.cassandra import CassandraWebhookStore

        # The api processes send deliveries; a rank-worker records tier_changed ones.
        webhook_store = CassandraWebhookStore(store)
        await webhook_store.prepare()
        if "db-worker" in roles:
            consumer = KafkaLogConsumer(settings.kafka_bootstrap, ingest_topics(settings), names.DB_WORKER_GROUP)
            opened.push_async_callback(consumer.close)
            db_worker = DbWorker(
                consumer,
                store,
                boards,
                DbWorkerSettings(
                    batch_size=settings.db_worker_batch,
                    idempotency_window_s=settings.idempotency_window_s,
                    topic_regions=topic_regions(settings),
                    keep_steps=settings.history_points,
                    # Cassandra keeps each total's highest version whatever order writes land in.
                    depth=settings.db_worker_depth,
                ),
                Placement(cohort_store),
            )
        rank_history = await open_history(settings, store)
        if "rank-worker" in roles:
            feed = DebeziumChangeFeed(
                settings.kafka_bootstrap, names.changes_topic(settings.cassandra_keyspace), names.RANK_WORKER_GROUP
            )
            opened.push_async_callback(feed.close)
            tiers = TierChanges(webhook_store, index, cohort_store)
            rank_worker = RankWorker(
                feed, index, boards, visibility, RankWorkerSettings(), social, live, rank_history, tiers
            )
        opened.push_async_callback(workers.stop)  # the workers stop before what they use closes
        if "db-worker" in roles:
            workers.start("db-worker", db_worker.run, db_worker.recover)
        if "rank-worker" in roles:
            workers.start("rank-worker", rank_worker.run, rank_worker.recover)
            await resume_bucket_moves(index.inner)
        from podium.jobstore.cassandra import CassandraJobStore

        history = DebeziumHistory(settings.kafka_bootstrap, names.changes_topic(settings.cassandra_keyspace))
        jobs = open_jobs(settings, CassandraJobStore(store), boards, index)
        admin = Admin(store, boards, index, history, jobs, social)
        opened.push_async_callback(admin.close)  # closes the history too; its jobs end before the workers stop
        reconciler = start_reconciler(
            settings, store, boards, index, workers, jobs, scheduled="rank-worker" in roles, social=social
        )
        if "rank-worker" in roles:
            start_expiry(settings, store, boards, index, workers, rank_history)
        parts = Parts(settings, store, boards, index, visibility, social, live, workers, admin, reconciler)
        if score_log is None:
            yield parts.worker_services()
            return
        keys = await open_keys(settings, store)
        if keys is not None:
            opened.push_async_callback(keys.close)
        from podium.tournaments.cassandra import CassandraTournamentStore

        tournament_store = CassandraTournamentStore(store)
        await tournament_store.prepare()
        from podium.log.watermark import KafkaWatermark

        watermark = KafkaWatermark(settings.kafka_bootstrap, ingest_topics(settings), names.DB_WORKER_GROUP)
        opened.push_async_callback(watermark.close)
        deliveries = start_deliveries(settings, webhook_store, boards, store, watermark, workers, opened)
        yield parts.api_services(
            score_log,
            keys,
            limits,
            tournament_store,
            history=rank_history,
            deliveries=deliveries,
            cohort_store=cohort_store,
            reads_replicas=replicas,
        )


async def open_history(settings: Settings, cassandra: CassandraStore) -> RankHistory | None:
    """The rank history, a table of the keyspace read through the store's session (None:
    PODIUM_HISTORY_POINTS=0, history off)."""
    if settings.history_points == 0:
        return None
    from podium.history.cassandra import CassandraRankHistory

    history = CassandraRankHistory(cassandra, points=settings.history_points)
    await history.prepare()
    return history


def ingest_topics(settings: Settings) -> list[str]:
    """What the home db-worker reads: its own region's ingest topic and every other region's,
    mirrored home by MirrorMaker 2. A user must enter through one region only: positions in
    two topics do not order one user's events (docs/global.md)."""
    others = [r for r in settings.region_list if r != settings.region] if settings.is_home else []
    return [names.INGEST_TOPIC, *map(names.mirrored_ingest_topic, others)]


def topic_regions(settings: Settings) -> dict[str, str]:
    """The region each of the home db-worker's ingest topics carries, where it reads more than
    one: recorded with every user's total, so that one user enters through one region only.
    One topic (one region): none is recorded, and a deployment that adds regions later finds
    its totals free to take the region their next event comes through."""
    topics = ingest_topics(settings)
    if len(topics) == 1:
        return {}
    others = [r for r in settings.region_list if r != settings.region]
    return {names.INGEST_TOPIC: settings.region} | {names.mirrored_ingest_topic(r): r for r in others}


def read_replicas(settings: Settings) -> Settings:
    """The settings of this region's replicas of the rank index: addressed by URL (Sentinel
    would hand out any replica, not the one in this region)."""
    return dataclasses.replace(settings, redis_shards=settings.redis_read_shards, redis_sentinels="")


async def open_keys(settings: Settings, cassandra: CassandraStore | None = None) -> Keys | None:
    """The API keys an api process checks (None with auth off); says how to make the first one."""
    if settings.auth == "off":
        return None
    keys = Keys(await open_key_store(settings, cassandra), cache_s=settings.key_cache_s)
    try:
        empty = not await keys.records()
    except BaseException:
        await keys.close()
        raise
    if empty:
        log.warning(
            "auth is on and there are no API keys yet: every request but the public ones is refused; "
            "create one with `podium keys create --scope admin`"
        )
    return keys


@contextlib.asynccontextmanager
async def managed_keys(settings: Settings) -> AsyncIterator[Keys]:
    """The keys, opened apart from a serving process: `podium keys`, the demo's keys."""
    cassandra = await asyncio.to_thread(connect_store, settings) if settings.profile == "distributed" else None
    keys = Keys(await open_key_store(settings, cassandra), cache_s=0)
    try:
        yield keys
    finally:
        await keys.close()
        if cassandra is not None:
            await cassandra.close()


async def open_key_store(settings: Settings, cassandra: CassandraStore | None = None) -> KeyStore:
    """The profile's key store: a SQLite file in the data directory, or a table in the
    keyspace read through `cassandra`'s session (which the caller closes)."""
    if settings.profile == "distributed":
        from podium.keystore.cassandra import CassandraKeyStore

        assert cassandra is not None, "the distributed key store reads through the store's session"
        return CassandraKeyStore(cassandra)
    from podium.keystore.sqlite import SqliteKeyStore

    sqlite = SqliteKeyStore(settings.data / "keys.db")
    await sqlite.open()
    return sqlite


def open_jobs(settings: Settings, job_store: JobStore, boards: Boards, index: GenerationalRankIndex) -> Jobs:
    """This process's jobs, its keeper started: it renews their leases and ends the jobs of
    processes that stopped (a rebuild as `--force` would: podium/usecases/rebuild.py)."""

    async def end_rebuild(record: JobRecord) -> str | None:
        return await end_abandoned_rebuild(record, boards, index)

    jobs = Jobs(job_store, lease_s=settings.job_lease_s, enders={"rebuild": end_rebuild})
    jobs.open()
    return jobs


def start_reconciler(
    settings: Settings,
    store: Store,
    boards: Boards,
    index: RankIndex,
    workers: Workers,
    jobs: Jobs,
    *,
    scheduled: bool,
    social: SocialIndex | None = None,
) -> Reconciler:
    """The reconciler for the admin endpoint; with `scheduled`, also take part in the
    deployment's reconcile once every `reconcile_every_s` (podium/usecases/reconcile_schedule.py),
    as a supervised worker."""
    reconciler = Reconciler(
        store, boards, index, ReconcileSettings(full_check_users=settings.reconcile_full_check_users), social
    )
    if scheduled and settings.reconcile_every_s > 0:

        async def scheduled_runs(stop: asyncio.Event) -> None:
            await run_every(reconciler, jobs, settings.reconcile_every_s, settings.data, stop)

        async def nothing_to_recover() -> None:
            return None

        workers.start("reconciler", scheduled_runs, nothing_to_recover)
    return reconciler


def start_deliveries(
    settings: Settings,
    hooks: WebhookStore,
    boards: Boards,
    store: Store,
    watermark: Watermark,
    workers: Workers,
    opened: contextlib.AsyncExitStack,
) -> Deliveries:
    """Webhooks and their deliveries; every api process announces ended periods and sends
    what is due (podium/usecases/deliveries.py), as a supervised worker."""
    deliveries = Deliveries(
        hooks,
        boards,
        store,
        watermark,
        DeliverySettings(
            allow=tuple(settings.webhook_allow_list),
            top_n=settings.webhook_top_n,
            check_s=settings.webhook_check_s,
            timeout_s=settings.webhook_timeout_s,
            lease_s=settings.webhook_lease_s,
            first_backoff_s=settings.webhook_first_backoff_s,
            max_backoff_s=settings.webhook_max_backoff_s,
            retry_for_s=settings.webhook_retry_for_s,
            grace_s=settings.results_grace_s,
        ),
    )
    opened.push_async_callback(deliveries.close)

    async def nothing_to_recover() -> None:
        return None

    workers.start("webhooks", deliveries.run, nothing_to_recover)
    return deliveries


def start_expiry(
    settings: Settings,
    store: Store,
    boards: Boards,
    index: GenerationalRankIndex,
    workers: Workers,
    history: RankHistory | None,
) -> None:
    """Drop the windows' periods boards no longer keep, every `housekeeping_interval_s`."""

    async def drop_expired() -> None:
        await drop_expired_periods(store, boards, index, time.time_ns() // 1000, history)

    async def expire(stop: asyncio.Event) -> None:
        await periodic(stop, settings.housekeeping_interval_s, drop_expired)

    async def nothing_to_recover() -> None:
        return None

    workers.start("period-expiry", expire, nothing_to_recover)


async def resume_bucket_moves(index: RankIndex) -> None:
    """Restart the movers of buckets a stopped rank-worker left in transit (a write to the
    board would too; this also covers boards nobody writes to)."""
    from podium.index.sharded import ShardedRedisRankIndex

    if not isinstance(index, ShardedRedisRankIndex):
        return
    try:
        resumed = await index.resume_moves()
    except BackendUnavailable as exc:
        log.warning("could not look for bucket moves to resume", extra={"error": str(exc)})
        return
    if resumed:
        log.info("resumed bucket moves", extra={"boards": resumed})


def redis_rank_index(settings: Settings) -> DroppableRankIndex:
    """The sharded index over the configured shards; with none, over the one Redis at
    `redis_url`, never split: one sorted set per board."""
    from podium.domain.buckets import SplitPolicy
    from podium.index.sharded import ShardedRedisRankIndex

    wait: dict[str, Any] = {
        "wait_replicas": settings.redis_wait_replicas,
        "wait_timeout_ms": settings.redis_wait_timeout_ms,
    }
    if not settings.redis_shard_list:
        return ShardedRedisRankIndex.from_urls(
            [settings.redis_url], policy=SplitPolicy.never(), auth=settings.redis_auth, **wait
        )
    policy = SplitPolicy(settings.bucket_max_members, settings.bucket_max_writes_per_s)
    if settings.redis_sentinels:
        # Each shard's primary is found through the Sentinels, again after a failover.
        sentinel = redis_sentinel(settings)
        # Sentinel's pool cannot block: a size above any burst the bounded reads make (podium/plumbing/bounded.py).
        clients = [
            sentinel.master_for(name, socket_timeout=5.0, max_connections=1000) for name in settings.redis_shard_list
        ]
        return ShardedRedisRankIndex(clients, policy=policy, **wait)
    return ShardedRedisRankIndex.from_urls(settings.redis_shard_list, policy=policy, auth=settings.redis_auth, **wait)


def live_hub(settings: Settings) -> LiveHub:
    """The live hub its URL names (`settings.live_hub_url`), chosen by scheme as
    encode/broadcaster chooses a backend; Redis's driver is imported only on that branch."""
    url = settings.live_hub_url
    if url.startswith("memory://"):
        return MemoryLiveHub(history=settings.live_history)
    from podium.live.redis import RedisLiveHub

    if url.startswith("rank-shard://"):
        return RedisLiveHub(redis_directory(settings), history=settings.live_history)
    return RedisLiveHub.from_url(url, history=settings.live_history, auth=settings.redis_auth)


def redis_visibility(
    settings: Settings, index: RankIndex, roles: Collection[str], *, replicas: bool = False
) -> PollingVisibility | RedisVisibility:
    """`wait=true` pushed on the live hub's Redis (`live_hub_url`, which every api process and
    rank-worker already shares); with an in-memory hub, asked of the index. An api reading a
    region's replicas asks them: the home primaries' apply is no promise about its replicas."""
    url = settings.live_hub_url
    if url.startswith("memory://") or replicas:
        return PollingVisibility(index, beside_a_worker="rank-worker" in roles)
    if url.startswith("rank-shard://"):
        return RedisVisibility(index, redis_directory(settings))
    import redis.asyncio as aioredis

    return RedisVisibility(index, aioredis.Redis.from_url(url, **settings.redis_auth))


def redis_limits(settings: Settings) -> tuple[RateLimiter, SubmissionCounter]:
    """The limits on the live hub's Redis (`live_hub_url`: a Redis, or the rank index's first
    shard): every api process already shares it."""
    from podium.limits.redis import RedisRateLimiter, RedisSubmissionCounter

    url = settings.live_hub_url

    def client() -> Any:
        if not url.startswith("rank-shard://"):
            import redis.asyncio as aioredis

            return aioredis.Redis.from_url(url, **settings.redis_auth)
        return redis_directory(settings)

    return RedisRateLimiter(client(), lease_s=settings.rate_lease_ms / 1000), RedisSubmissionCounter(client())


def redis_social_index(settings: Settings) -> SocialIndex:
    """The social index on its own shards (`social_shards`: Sentinel names, found again after
    a failover like the rank shards', or URLs); with none, on the first rank shard (or the
    one Redis)."""
    from podium.social.placement import shard_label
    from podium.social.redis import RedisSocialIndex
    from podium.social.sharded import ShardedSocialIndex

    wait = {"wait_replicas": settings.redis_wait_replicas, "wait_timeout_ms": settings.redis_wait_timeout_ms}
    shards = settings.social_shard_list
    if not shards:
        return RedisSocialIndex(redis_directory(settings), fan_out_cap=settings.friends_fan_out_cap, **wait)
    labels = [shard_label(s.removeprefix("+")) for s in shards]
    joining = [i for i, s in enumerate(shards) if s.startswith("+")]
    cap = settings.friends_fan_out_cap
    return ShardedSocialIndex.over(social_clients(settings), labels, fan_out_cap=cap, joining=joining, **wait)


def social_clients(settings: Settings) -> list[Any]:
    """A client of each social shard's primary, in `social_shards` order."""
    import redis.asyncio as aioredis

    shards = [s.removeprefix("+") for s in settings.social_shard_list]  # `+`: joining
    named = [s for s in shards if "://" not in s]
    if named and not settings.redis_sentinels:
        raise InvalidInput(
            f"PODIUM_SOCIAL_SHARDS names Sentinel masters ({', '.join(named)}) but PODIUM_REDIS_SENTINELS is "
            "empty: give redis:// URLs, or leave it empty to keep the social index on the first rank shard"
        )
    sentinel = redis_sentinel(settings) if named else None

    def client(shard: str) -> Any:
        if "://" in shard:
            return aioredis.Redis.from_url(shard, **settings.redis_auth)
        assert sentinel is not None
        # Sentinel's pool cannot block: a size above any burst, as for the rank shards.
        return sentinel.master_for(shard, socket_timeout=5.0, max_connections=1000)

    return [client(s) for s in shards]


def redis_directory(settings: Settings) -> Any:
    """A client of the first shard (or the one Redis), where boards' homes and index
    generations are recorded."""
    import redis.asyncio as aioredis

    if not settings.redis_shard_list:
        return aioredis.Redis.from_url(settings.redis_url, **settings.redis_auth)
    if settings.redis_sentinels:
        return redis_sentinel(settings).master_for(settings.redis_shard_list[0], socket_timeout=5.0)
    return aioredis.Redis.from_url(settings.redis_shard_list[0], **settings.redis_auth)


def redis_sentinel(settings: Settings) -> Any:
    """The Sentinels of `redis_sentinels`; they, and the primaries they hand out, are
    logged in to with the Redis credentials."""
    from redis.asyncio.sentinel import Sentinel

    return Sentinel(  # type: ignore[no-untyped-call]
        settings.redis_sentinel_list,
        socket_timeout=1.0,
        sentinel_kwargs={"socket_timeout": 1.0, **settings.redis_auth},
        **settings.redis_auth,
    )


def connect_store(settings: Settings) -> CassandraStore:
    from podium.store.cassandra import CassandraStore

    return CassandraStore.connect(
        settings.cassandra_host_list,
        settings.cassandra_port,
        settings.cassandra_keyspace,
        local_dc=settings.cassandra_local_dc,
        key_ttl_s=int(settings.idempotency_window_s),
        auth=settings.cassandra_auth,
    )


def prepare_distributed(settings: Settings, store: CassandraStore | None = None) -> None:
    """Create what the distributed profile needs if it is missing: the Cassandra
    schema and the Kafka topics. Idempotent; `podium stack up` runs it before
    Debezium starts (the connector ignores tables created after it)."""
    from podium.log.kafka import ensure_topics

    cassandra = store if store is not None else connect_store(settings)
    try:
        cassandra.ensure_schema(settings.cassandra_replication)
    finally:
        if store is None:
            cassandra.shutdown()
    # The mirrored topics too, so that the db-worker can subscribe before MirrorMaker 2 first runs.
    topics = dict.fromkeys(ingest_topics(settings), settings.ingest_partitions)
    topics[names.changes_topic(settings.cassandra_keyspace)] = settings.ingest_partitions
    ensure_topics(settings.kafka_bootstrap, topics, replication=settings.kafka_replication)


async def _rebuild(store: SqliteStore, boards: Boards, index: MemoryRankIndex, social: MemorySocialIndex) -> int:
    """Fill the in-memory indexes from the store; returns the change sequence they reflect."""
    started = time.monotonic()
    # Friend lists first, so that the totals below fan out to every follower.
    async for user_id, friends in store.friend_lists():
        social.replace_now(user_id, friends)
    seq, totals = await store.snapshot()
    by_board: dict[str, list[Total]] = defaultdict(list)
    for t in totals:
        by_board[t.board].append(t)
    for name, board_totals in by_board.items():
        board = await boards.find(name)
        if board is not None:
            index.apply_now(board, board_totals)
            social.apply_now(board, board_totals)
    log.info(
        "rank index rebuilt from the store",
        extra={"totals": len(totals), "boards": len(by_board), "seconds": round(time.monotonic() - started, 3)},
    )
    return seq
