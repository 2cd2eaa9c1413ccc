from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from podium.api.app import create_app
from podium.settings import Settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data=tmp_path / "data", wait_timeout_s=5.0)


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    """The whole embedded pipeline behind the HTTP API, in this process."""
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
