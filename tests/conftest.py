from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from podium.api.app import create_app
from podium.settings import Settings
from tests.distributed.stack import (  # noqa: F401 (fixtures)
    board_name,
    dist_settings,
    distributed_processes,
    running_stack,
)


class BoardNames:
    """`b.arena` is a board name of this test's own, the same for the whole test:
    tests of the distributed profile share one stack, never a board."""

    def __init__(self) -> None:
        self._suffix = uuid.uuid4().hex[:10]

    def __getattr__(self, name: str) -> str:
        if name.startswith("_"):
            raise AttributeError(name)
        return f"{name}-{self._suffix}"


@pytest.fixture
def b() -> BoardNames:
    return BoardNames()


@pytest.fixture(params=["embedded", pytest.param("distributed", marks=pytest.mark.distributed)])
def profile(request: pytest.FixtureRequest) -> str:
    """Both profiles; the distributed one is marked so, since it starts the local stack when
    it is down (`-m "not distributed"` leaves it out, and a run under the stack's lock keeps it)."""
    if request.param == "distributed":
        request.getfixturevalue("running_stack")
    return str(request.param)


@pytest.fixture
def settings(tmp_path: Path, profile: str) -> Settings:
    if profile == "distributed":
        from tests.distributed.stack import DIST_ENV

        return Settings.from_env(DIST_ENV, data=tmp_path / "unused", wait_timeout_s=20.0)
    return Settings(data=tmp_path / "data", wait_timeout_s=5.0, auth="off", rate_key_per_s=0, rate_address_per_s=0)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The whole pipeline behind the HTTP API, in this process, in each profile."""
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def redis_pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A real Redis primary with one replica: (primary url, replica url)."""
    from tests.engines import start_redis, wait_replica_in_sync

    base = tmp_path_factory.mktemp("redis")
    primary = start_redis(base / "primary")
    replica = start_redis(base / "replica", replica_of=primary.port)
    wait_replica_in_sync(replica)
    try:
        yield primary.url, replica.url
    finally:
        replica.stop()
        primary.stop()


@pytest.fixture(scope="session")
def redis_shards(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """Three real Redis shards, each a primary with one replica: the primaries' urls."""
    from tests.engines import start_redis, wait_replica_in_sync

    base = tmp_path_factory.mktemp("shards")
    servers = []
    try:
        for i in range(3):
            primary = start_redis(base / f"primary{i}")
            replica = start_redis(base / f"replica{i}", replica_of=primary.port)
            servers += [primary, replica]
            wait_replica_in_sync(replica)
        yield [s.url for s in servers[::2]]
    finally:
        for server in servers:
            server.stop()
