"""API keys on the real stack: a key made with `podium keys` lives in the keyspace, so
every `podium api` process takes it, and each refuses it within PODIUM_KEY_CACHE_S of
its revoke."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.distributed.stack import DIST_ENV
from tests.e2e.server import PodiumProcess

pytestmark = pytest.mark.distributed

CACHE_S = 1.0
ENV = {**DIST_ENV, "PODIUM_AUTH": "on", "PODIUM_DEV": "0", "PODIUM_KEY_CACHE_S": str(CACHE_S)}


def podium_keys(*args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "podium", "keys", *args], env={**os.environ, **ENV}, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def test_a_key_works_on_every_api_and_its_revoke_reaches_each_within_the_cache_time(
    running_stack: None, tmp_path: Path, board_name: str
) -> None:
    admin = podium_keys("create", "--scope", "admin", "--name", f"test-{board_name}")
    apis = [PodiumProcess(tmp_path / f"api{i}", command="api", env=ENV) for i in range(2)]
    try:
        for api in apis:
            api.start(timeout_s=60)
        assert (
            httpx.put(f"{apis[0].base_url}/v1/boards/{board_name}", json={}, headers=bearer(admin)).status_code == 201
        )
        for api in apis:
            assert httpx.get(f"{api.base_url}/v1/boards/{board_name}", headers=bearer(admin)).status_code == 200
            assert httpx.get(f"{api.base_url}/v1/boards/{board_name}").status_code == 401
        assert httpx.delete(f"{apis[1].base_url}/v1/boards/{board_name}", headers=bearer(admin)).status_code == 204
        podium_keys("revoke", admin[3:19])
        revoked_at = time.monotonic()
        for api in apis:
            while httpx.get(f"{api.base_url}/v1/boards", headers=bearer(admin)).status_code != 401:
                assert time.monotonic() - revoked_at < CACHE_S + 2.0, f"{api.base_url} still takes the revoked key"
                time.sleep(0.1)
        assert admin not in podium_keys("list")
    finally:
        for api in apis:
            api.stop()


def test_the_distributed_api_will_not_start_with_auth_off_unless_a_dev_run(tmp_path: Path) -> None:
    env = {**os.environ, **DIST_ENV, "PODIUM_AUTH": "off", "PODIUM_DEV": "0"}
    done = subprocess.run([sys.executable, "-m", "podium", "api"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "PODIUM_AUTH" in done.stderr and "PODIUM_DEV" in done.stderr
