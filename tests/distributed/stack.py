"""The distributed profile's tests run against the real stack: Kafka, Cassandra,
the Debezium Cassandra connector and Redis, started by `infra/stack.sh` (what
`podium stack up` runs) unless they are running already; stopped afterwards
only if this session started them."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from podium.settings import Settings

if TYPE_CHECKING:
    from tests.e2e.server import PodiumProcess

ROOT = Path(__file__).resolve().parents[2]
PORTS = {"redis": 6379, "kafka": 9092, "cassandra": 9042, "debezium": 8089}


def listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def stack(*args: str) -> None:
    subprocess.run(["bash", str(ROOT / "infra" / "stack.sh"), *args], check=True)


@pytest.fixture(scope="session")
def running_stack() -> Iterator[None]:
    already = all(listening(p) for p in PORTS.values())
    if not already:
        stack("up")
    try:
        yield
    finally:
        if not already:
            stack("down")


DIST_ENV = {
    "PODIUM_PROFILE": "distributed",
    "PODIUM_KAFKA_BOOTSTRAP": "127.0.0.1:9092",
    "PODIUM_CASSANDRA_HOSTS": "127.0.0.1",
    "PODIUM_REDIS_SENTINELS": "127.0.0.1:26379,127.0.0.1:26380,127.0.0.1:26381",
    "PODIUM_REDIS_SHARDS": "shard0,shard1,shard2",
    "PODIUM_SOCIAL_SHARDS": "social0,social1",  # the social index on shards of its own
    "PODIUM_BUCKET_MAX_MEMBERS": "8",  # tiny buckets: the tests' boards split, under faults too
    "PODIUM_REDIS_WAIT_REPLICAS": "1",
    "PODIUM_WAIT_TIMEOUT_S": "30",
    "PODIUM_AUTH": "off",  # the security tests turn it on
    "PODIUM_DEV": "1",
    "PODIUM_RATE_KEY_PER_S": "0",  # no rate limits: tests send in bulk from one address
    "PODIUM_RATE_ADDRESS_PER_S": "0",
}


def stack_settings() -> Settings:
    """The local stack's settings, with its passwords (var/secrets.toml, made by `stack up`)."""
    return Settings.from_env(DIST_ENV)


def eventually(check: Any, timeout_s: float = 30.0) -> Any:
    """`check()` again and again until it is truthy or the time is up; its last value."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


def cassandra_cluster(*, login: tuple[str, str] | None = None, **kwargs: Any) -> Any:
    """A driver `Cluster` of the local stack's Cassandra, logged in as Podium's role (or as
    `login`, a user and password)."""
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster

    auth = login or stack_settings().cassandra_auth
    return Cluster(["127.0.0.1"], auth_provider=PlainTextAuthProvider(*auth) if auth else None, **kwargs)


@pytest.fixture
def dist_settings(running_stack: None, tmp_path: Path) -> Settings:
    return Settings.from_env(DIST_ENV, data=tmp_path / "unused")


@contextlib.asynccontextmanager
async def stack_store(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """The stack's Cassandra store, schema ready, for the adapters that ride on its session
    (the key store, the job store); closed after."""
    from podium.bootstrap import connect_store, prepare_distributed

    settings = request.getfixturevalue("dist_settings")
    store = await asyncio.to_thread(connect_store, settings)
    await asyncio.to_thread(prepare_distributed, settings, store)
    try:
        yield store
    finally:
        await store.close()


@contextlib.asynccontextmanager
async def two_connections(
    kind: str, request: pytest.FixtureRequest, sqlite: Callable[[], Any], cassandra: Callable[[Any], Any]
) -> AsyncIterator[list[Any]]:
    """Two adapters of one port on one store, each on a connection of its own (as two processes
    have): `sqlite()` makes one on the embedded store; `cassandra(store)` one riding on a
    session to the stack's Cassandra (the first prepares the schema)."""
    if kind == "sqlite":
        both = [sqlite(), sqlite()]
        for each in both:
            await each.open()
        try:
            yield both
        finally:
            for each in both:
                await each.close()
        return
    async with stack_store(request) as first, stack_store(request) as second:
        adapters = [cassandra(first), cassandra(second)]
        await adapters[0].prepare()
        yield adapters


@pytest.fixture
def board_name() -> str:
    """A board of this test's own: tests share the stack, never a board."""
    return f"t-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def distributed_processes(running_stack: None, tmp_path: Path) -> Iterator[dict[str, PodiumProcess]]:
    """`podium api`, `podium db-worker` and `podium rank-worker`, each a real process."""
    from tests.e2e.server import PodiumProcess

    procs = {n: PodiumProcess(tmp_path / n, command=n, env=DIST_ENV) for n in ("api", "db-worker", "rank-worker")}
    for proc in procs.values():
        proc.start(timeout_s=60)
    try:
        yield procs
    finally:
        for proc in procs.values():
            proc.stop()
