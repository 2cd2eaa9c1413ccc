"""One frozen settings object, read from PODIUM_* environment variables and
passed down from the CLI; nothing reads the environment anywhere else."""

from __future__ import annotations

import dataclasses
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from podium.errors import InvalidInput

PROFILES = ("embedded", "distributed")
# The local stack's passwords (`podium stack up` makes them; infra/stack.sh), in a source checkout.
STACK_SECRETS = Path(__file__).resolve().parent.parent / "var" / "secrets.toml"
CREDENTIALS = ("redis_username", "redis_password", "cassandra_username", "cassandra_password")
MASK = "***"
SYNC_MODES = ("full", "normal", "off")
REGION_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,31}")
AUTH_MODES = ("on", "off")
# Where the live hub runs, by its URL's scheme (podium/bootstrap.live_hub).
LIVE_HUB_SCHEMES = ("memory", "redis", "rediss", "unix", "rank-shard")
TRUE, FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    data: Path = Path(".podium")
    profile: str = "embedded"
    # SQLite sync: "full" makes an acknowledged submission survive power loss,
    # "normal" only a process crash (faster).
    sqlite_sync: str = "full"
    max_body_bytes: int = 1024 * 1024
    max_batch: int = 1000
    # Per-entry details a submission may carry (issue 7): metadata is a JSON object of at most
    # this many bytes, compact; a display name at most this many characters.
    max_metadata_bytes: int = 2048
    max_display_name: int = 64
    # Metadata nested deeper than this (objects and arrays in one another) is refused.
    max_json_depth: int = 8
    # Request rate limits (GCRA: `per_s` on average, `burst` at once; per_s 0 = no limit),
    # answered with 429 and Retry-After. A request with a key counts against its key; one
    # without a key, or with a read key (players' clients), against its client address.
    # Distributed: counted in Redis (the live hub's), shared by every api process.
    rate_key_per_s: float = 1000.0
    rate_key_burst: int = 2000
    rate_address_per_s: float = 20.0
    rate_address_burst: int = 60
    # Distributed: a limit high enough is taken from Redis in blocks, each spent in its api
    # process for at most this long (podium/limits/redis.py); 0: every request checked in Redis.
    rate_lease_ms: float = 50.0
    wait_timeout_s: float = 10.0
    idempotency_window_s: float = 24 * 3600
    log_retention_s: float = 24 * 3600
    changes_kept: int = 100_000
    # Rank history (podium/history/): the points kept per user per board, newest first; 0
    # turns history off (the rank-worker then writes none and reads answer none).
    history_points: int = 100
    # Tournaments (podium/tournaments/): a period's joins and attempts are kept this long after
    # the period ends, then expire (read only while it is active; its results come from totals).
    tournament_rows_kept_s: float = 24 * 3600
    # Records a db-worker takes in one poll at most: only what is already fetched, so big
    # batches come only when it is behind, where they cost fewer store requests a score.
    db_worker_batch: int = 5000
    # Batches a db-worker holds at once in the distributed profile, the one being polled
    # and read included: the next batch is decided while up to this many less one are
    # written (podium/pipeline/in_flight.py). 1: each written and committed before the
    # next poll. The embedded profile always writes one batch at a time.
    db_worker_depth: int = 3
    housekeeping_interval_s: float = 60.0
    log_level: str = "info"
    # Distributed profile: where the engines are (defaults: `podium stack up`).
    kafka_bootstrap: str = "127.0.0.1:9092"
    ingest_partitions: int = 6
    # How long the api's producer holds a record for others to share its produce request
    # (librdkafka's linger.ms). 5 ms cost the broker no less CPU a single submission at 128
    # connections than 2 (the requests fill anyway), and at 32 it halved their rate: each
    # waits for its acknowledgement (docs/benchmarks.md, issue 19, branch `single`).
    kafka_linger_ms: float = 2.0
    kafka_replication: int = 1
    cassandra_hosts: str = "127.0.0.1"
    cassandra_port: int = 9042
    cassandra_keyspace: str = "podium"
    cassandra_local_dc: str = "datacenter1"
    cassandra_replication: int = 1
    redis_url: str = "redis://127.0.0.1:6379/0"
    # The sharded rank index: shards as redis:// URLs, or as Sentinel master names
    # when `redis_sentinels` (host:port,...) is set. Empty: one sorted set per board at redis_url.
    # The defaults are the local stack's (`podium stack up`).
    redis_shards: str = "shard0,shard1,shard2"
    redis_sentinels: str = "127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381"
    # The social index's shards (friend lists, follower sets, friends boards; podium/social/),
    # apart from the rank index's: Sentinel master names (with `redis_sentinels`) or redis://
    # URLs. A user's home among them is placed by rendezvous hashing on their names, so a name
    # must not change; adding one moves only the users it takes (`podium social add-shard`).
    # Empty: the social index lives on the first rank shard (or `redis_url`).
    social_shards: str = "social0,social1"
    # The engines' credentials (Redis ACL user, also for its Sentinels; Cassandra role). In the
    # distributed profile, those left empty are read from `stack_secrets` if it exists: the
    # local stack's, so nothing needs setting after `podium stack up`.
    redis_username: str = ""
    redis_password: str = ""
    cassandra_username: str = ""
    cassandra_password: str = ""
    stack_secrets: Path = STACK_SECRETS
    # A bucket splits when it has more members, or takes more writes a second, than this.
    bucket_max_members: int = 100_000
    bucket_max_writes_per_s: float = 5_000.0
    # The rank-worker commits its offsets only once this many replicas have the writes (WAIT).
    redis_wait_replicas: int = 1
    redis_wait_timeout_ms: int = 2000
    # The reconciler (podium/usecases/reconcile.py): once every this many seconds (0: never) by one process
    # with the rank-worker role; boards up to this many users are checked user by user.
    reconcile_every_s: float = 86400.0
    reconcile_full_check_users: int = 10_000
    # Admin jobs (podium/usecases/jobs.py) are recorded in the store with a lease their process renews
    # every third of this; a job whose process stopped is ended by another within it.
    job_lease_s: float = 12.0
    # Friends (podium/social/): a friend list holds at most `max_friends` users; a user
    # with more followers than `friends_fan_out_cap` is not fanned out on write: their
    # followers' friends boards read that user's total at query time.
    max_friends: int = 1000
    friends_fan_out_cap: int = 10_000
    # Live updates (podium/live/): each subscriber gets at most `live_max_fps` frames a second
    # (bursts are coalesced); a board keeps its newest `live_history` changes for resuming
    # clients; `top` is at most `live_max_top`. `live_hub`: where the hub runs, one URL (see
    # `live_hub_url`). `live_redis_url`: its older name for a Redis, an alias of live_hub.
    live_max_fps: float = 10.0
    live_history: int = 1000
    live_max_top: int = 100
    live_hub: str = ""
    live_redis_url: str = ""
    # Webhooks (podium/usecases/deliveries.py, docs/operations.md). `webhook_allow`: the hosts
    # ("hooks.example.com", "*.example.com") and URL prefixes ("https://x.example/podium/") a
    # webhook's URL may name, comma-separated; empty: none. A finished period is announced once
    # the db-worker consumed every record appended before its end + `results_grace_s`; each
    # delivery carries the top `webhook_top_n`, is tried every `webhook_check_s` while due, held
    # by its sender for `webhook_lease_s`, waits 2, 4, 8 … s (at most `webhook_max_backoff_s`)
    # after a failure, and is given up `webhook_retry_for_s` after it was recorded.
    webhook_allow: str = ""
    webhook_top_n: int = 10
    webhook_check_s: float = 1.0
    webhook_timeout_s: float = 10.0
    webhook_lease_s: float = 30.0
    webhook_first_backoff_s: float = 2.0
    webhook_max_backoff_s: float = 3600.0
    webhook_retry_for_s: float = 86400.0
    results_grace_s: float = 1.0
    # A worker process (`podium db-worker`, `podium rank-worker`) serves /metrics and /healthz here.
    metrics_port: int = 0
    # A global player base (docs/global.md). `region`: where this process runs, stamped on every
    # ingest event and in podium_region_info. `home_region`: where the store, the workers and the
    # rank index's primaries run (empty: this region). `regions`: every region (home too) whose
    # ingest topic MirrorMaker 2 mirrors home as `<region>.scores.ingest`; the home db-worker reads
    # them all. `redis_read_shards`: this region's replicas of the rank index's shards (redis://
    # URLs, in shard order); an api-only process reads ranks from them instead of the primaries.
    region: str = "local"
    home_region: str = ""
    regions: str = ""
    redis_read_shards: str = ""
    # API keys (podium/usecases/api_keys.py): "off" allows every request as if admin, for a dev run only
    # (`dev`: the distributed profile refuses auth off without it). Each api process keeps
    # the keys it checked for `key_cache_s`: a revoke reaches the others within that time.
    auth: str = "on"
    dev: bool = False
    key_cache_s: float = 5.0
    # The admin key `podium rebuild | replay | reconcile | buckets` send to the API (a secret: not in repr).
    api_key: str = dataclasses.field(default="", repr=False)

    def __repr__(self) -> str:
        # Settings end up in logs and tracebacks: never with a password in them.
        shown = ", ".join(f"{f.name}={_masked(f.name, getattr(self, f.name))!r}" for f in dataclasses.fields(self))
        return f"Settings({shown})"

    @property
    def secrets(self) -> tuple[str, ...]:
        """The passwords, for the log formatter to blank out wherever a driver repeats one."""
        urls = [self.redis_url, self.live_hub, self.live_redis_url, *self.redis_shard_list, *self.social_shard_list]
        in_urls = [urlsplit(u).password for u in urls if "@" in u]
        return tuple(p for p in (self.redis_password, self.cassandra_password, self.api_key, *in_urls) if p)

    @property
    def live_hub_url(self) -> str:
        """Where the live hub runs: `memory://` (in this process), `redis://host:port/db` (that
        Redis's pub/sub; also rediss:// and unix://) or `rank-shard://` (the rank index's first
        shard, found through the Sentinels, or the one Redis at `redis_url`). Unset, the older
        settings decide as they always did: `live_redis_url`, else memory:// in the embedded
        profile and rank-shard:// in the distributed one."""
        if self.live_hub:
            return self.live_hub
        if self.live_redis_url:
            return self.live_redis_url
        return "memory://" if self.profile == "embedded" else "rank-shard://"

    @property
    def redis_auth(self) -> dict[str, Any]:
        """Keyword arguments for every Redis client (and Sentinel): nothing when no password is set."""
        if not self.redis_password:
            return {}
        return {"username": self.redis_username or "default", "password": self.redis_password}

    @property
    def cassandra_auth(self) -> tuple[str, str] | None:
        return (self.cassandra_username, self.cassandra_password) if self.cassandra_password else None

    @property
    def redis_shard_list(self) -> list[str]:
        return [s.strip() for s in self.redis_shards.split(",") if s.strip()]

    @property
    def social_shard_list(self) -> list[str]:
        return [s.strip() for s in self.social_shards.split(",") if s.strip()]

    @property
    def redis_sentinel_list(self) -> list[tuple[str, int]]:
        found = []
        for item in self.redis_sentinels.split(","):
            if item.strip():
                host, _, port = item.strip().rpartition(":")
                found.append((host, int(port)))
        return found

    @property
    def webhook_allow_list(self) -> list[str]:
        return [a.strip() for a in self.webhook_allow.split(",") if a.strip()]

    @property
    def region_list(self) -> list[str]:
        return [r.strip() for r in self.regions.split(",") if r.strip()]

    @property
    def is_home(self) -> bool:
        """Whether this region holds the source of truth (always, with one region)."""
        return self.home_region in ("", self.region)

    @property
    def cassandra_host_list(self) -> list[str]:
        return [h.strip() for h in self.cassandra_hosts.split(",") if h.strip()]

    def __post_init__(self) -> None:
        if self.profile not in PROFILES:
            raise InvalidInput(f"unknown profile {self.profile!r}; choose one of {', '.join(PROFILES)}")
        if self.sqlite_sync not in SYNC_MODES:
            raise InvalidInput(f"PODIUM_SQLITE_SYNC must be one of {', '.join(SYNC_MODES)}")
        if not self.live_max_fps > 0 or self.live_history < 1 or self.live_max_top < 1:
            raise InvalidInput("PODIUM_LIVE_MAX_FPS, PODIUM_LIVE_HISTORY and PODIUM_LIVE_MAX_TOP must be positive")
        self._check_live_hub()
        if self.rate_key_burst < 1 or self.rate_address_burst < 1 or self.max_json_depth < 1:
            raise InvalidInput(
                "PODIUM_RATE_KEY_BURST, PODIUM_RATE_ADDRESS_BURST and PODIUM_MAX_JSON_DEPTH must be positive"
            )
        if not 0 <= self.rate_lease_ms <= 10_000:
            raise InvalidInput("PODIUM_RATE_LEASE_MS must be from 0 to 10000")
        if not 0 <= self.port <= 65535:
            raise InvalidInput(f"port {self.port} is out of range")
        # Region names end up in Kafka topic names and metric labels.
        for name in [self.region, *([self.home_region] if self.home_region else []), *self.region_list]:
            if not REGION_NAME.fullmatch(name):
                raise InvalidInput(f"region {name!r}: use lower-case letters, digits and '-' (at most 32)")
        if self.auth not in AUTH_MODES:
            raise InvalidInput(f"PODIUM_AUTH must be one of {', '.join(AUTH_MODES)}")
        if self.auth == "off" and self.profile == "distributed" and not self.dev:
            raise InvalidInput(
                "the distributed profile refuses PODIUM_AUTH=off: it would serve every request as admin; "
                "set PODIUM_DEV=1 too if this is a dev run"
            )
        if not self.job_lease_s > 0:
            raise InvalidInput("PODIUM_JOB_LEASE_S must be positive")
        if self.db_worker_batch < 1:
            raise InvalidInput("PODIUM_DB_WORKER_BATCH must be at least 1")
        if self.db_worker_depth < 1:
            raise InvalidInput("PODIUM_DB_WORKER_DEPTH must be at least 1")
        if self.history_points < 0:
            raise InvalidInput("PODIUM_HISTORY_POINTS must not be negative")
        if not 0 <= self.tournament_rows_kept_s <= 10 * 366 * 86_400:
            raise InvalidInput("PODIUM_TOURNAMENT_ROWS_KEPT_S must be from 0 to ten years")
        if self.key_cache_s < 0:
            raise InvalidInput("PODIUM_KEY_CACHE_S must not be negative")
        if not 0 < self.webhook_timeout_s < self.webhook_lease_s:
            # A sender must hear back (or give up) while it still holds the delivery.
            raise InvalidInput("PODIUM_WEBHOOK_TIMEOUT_S must be positive and below PODIUM_WEBHOOK_LEASE_S")
        if not 1 <= self.webhook_top_n <= 1000 or not self.webhook_check_s > 0 or self.results_grace_s < 0:
            raise InvalidInput(
                "PODIUM_WEBHOOK_TOP_N must be 1-1000, PODIUM_WEBHOOK_CHECK_S positive, PODIUM_RESULTS_GRACE_S >= 0"
            )

    def _check_live_hub(self) -> None:
        if self.live_hub and self.live_redis_url and self.live_hub != self.live_redis_url:
            raise InvalidInput("PODIUM_LIVE_HUB and PODIUM_LIVE_REDIS_URL (its older name) name two hubs: set one")
        scheme = urlsplit(self.live_hub_url).scheme
        if scheme not in LIVE_HUB_SCHEMES:
            shown = ", ".join(f"{s}://" for s in LIVE_HUB_SCHEMES)
            raise InvalidInput(f"PODIUM_LIVE_HUB {mask_url_passwords(self.live_hub_url)!r}: use one of {shown}")
        if scheme == "memory" and self.profile == "distributed":
            # The rank-worker publishes in its own process: no api process would hear it.
            raise InvalidInput(
                "the distributed profile's live hub must be shared: PODIUM_LIVE_HUB=memory:// is refused"
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, *, file: Path | None = None, **overrides: Any) -> Settings:
        """Defaults, overridden by a settings file (PODIUM_SETTINGS or `file`), then by
        PODIUM_<FIELD> variables, then by `overrides` (CLI flags)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        path = file or (Path(env["PODIUM_SETTINGS"]) if env.get("PODIUM_SETTINGS") else None)
        if path is not None:
            values.update(_read_file(cls, path))
        for field in dataclasses.fields(cls):
            raw = env.get(f"PODIUM_{field.name.upper()}")
            if raw is not None:
                values[field.name] = _parse(field.name, field.type, raw)
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values.get("profile") == "distributed":
            values = _with_stack_secrets(values, values.get("stack_secrets", STACK_SECRETS))
        return cls(**values)


def _read_file(cls: type[Settings], path: Path) -> dict[str, Any]:
    """A TOML file of settings by their names, e.g. `kafka_bootstrap = "k1:9092,k2:9092"`."""
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise InvalidInput(f"cannot read the settings file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise InvalidInput(f"the settings file {path} is not valid TOML: {exc}") from exc
    known = {f.name: f.type for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise InvalidInput(f"unknown setting {unknown[0]!r} in {path}")
    return {name: _parse(name, known[name], str(value)) for name, value in data.items()}


def _with_stack_secrets(values: dict[str, Any], path: Path) -> dict[str, Any]:
    """`values` with the credentials it lacks taken from the stack's secrets file, if there is one."""
    missing = [name for name in CREDENTIALS if not values.get(name)]
    if not missing or not path.exists():
        return values
    try:
        found = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        # The message names the file, never its content (a password could be in it).
        raise InvalidInput(f"cannot read the stack's secrets file {path}") from exc
    return values | {name: str(found[name]) for name in missing if found.get(name)}


def _masked(name: str, value: Any) -> Any:
    if (name.endswith("_password") or name == "api_key") and value:
        return MASK
    if isinstance(value, str):
        return mask_url_passwords(value)
    return value


# The password of a URL (redis://:secret@host, kafka://user:secret@host), wherever it stands
# in a text: a setting holds one, and a driver's error may quote one.
_URL_PASSWORD = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://[^:@/\s\"]*):[^@\s\"]+@")


def mask_url_passwords(text: str) -> str:
    """`text` with every URL's password replaced by MASK (the user kept)."""
    return _URL_PASSWORD.sub(rf"\1:{MASK}@", text) if "://" in text else text


def _parse(name: str, kind: object, raw: str) -> Any:
    try:
        if kind in (int, "int"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
        if kind in (Path, "Path"):
            return Path(raw)
        if kind in (bool, "bool"):
            if raw.strip().lower() not in TRUE + FALSE:
                raise ValueError(raw)
            return raw.strip().lower() in TRUE
    except ValueError as exc:
        raise InvalidInput(f"PODIUM_{name.upper()}={raw!r} is not a valid {kind}") from exc
    return raw
