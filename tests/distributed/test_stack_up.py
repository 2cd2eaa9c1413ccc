"""`podium stack up` finishes what an earlier `up` left undone. An `up` stopped after
Cassandra started and before its logins step leaves Cassandra running with its default
superuser password and no login for Podium; the next `up` used to see Cassandra running,
skip the logins, and fail at the schema with "login refused"."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from typing import Any

import pytest

from tests.distributed.stack import ROOT, cassandra_cluster, eventually

pytestmark = pytest.mark.distributed

SECRETS = ROOT / "var" / "secrets.toml"


def cluster_as(user: str, password: str) -> Any:
    from cassandra.policies import RoundRobinPolicy

    return cassandra_cluster(login=(user, password), protocol_version=4, load_balancing_policy=RoundRobinPolicy())


def can_log_in(user: str, password: str) -> bool:
    from cassandra.cluster import NoHostAvailable

    cluster = cluster_as(user, password)
    try:
        cluster.connect()
        return True
    except NoHostAvailable:
        return False
    finally:
        cluster.shutdown()


def stack(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PODIUM_BIN", "PODIUM_PYTHON")}
    return subprocess.run(
        [sys.executable, "-m", "podium", "stack", *args], capture_output=True, text=True, timeout=300, env=env
    )


@pytest.fixture
def secrets(running_stack: None) -> Iterator[dict[str, str]]:
    found = tomllib.loads(SECRETS.read_text())
    try:
        yield found
    finally:
        # The stack as it was, whatever the test did: the logins step is idempotent.
        subprocess.run([sys.executable, str(ROOT / "infra" / "cassandra_roles.py"), str(SECRETS)], check=True)


def test_stack_up_finishes_the_logins_an_interrupted_up_left_undone(secrets: dict[str, str]) -> None:
    user, password, admin = (
        secrets["cassandra_username"],
        secrets["cassandra_password"],
        secrets["cassandra_admin_password"],
    )
    cluster = cluster_as("cassandra", admin)
    try:
        session = cluster.connect()
        session.execute("ALTER ROLE cassandra WITH PASSWORD = 'cassandra'")
        session.execute(f"ALTER ROLE {user} WITH PASSWORD = 'not_set_yet'")
    finally:
        cluster.shutdown()
    # Logins are cached by Cassandra for a moment (credentials_validity): poll.
    assert eventually(lambda: not can_log_in(user, password)), "Podium's login still accepted"
    status = stack("status", "cassandra").stdout
    assert "cannot log in" in status, status

    up = stack("up", "cassandra", "schema")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "logins checked" in up.stdout and "schema: applied" in up.stdout

    assert eventually(lambda: can_log_in(user, password)), "Podium's login still refused"
    assert eventually(lambda: not can_log_in("cassandra", "cassandra")), "the default superuser password kept"
    status = stack("status", "cassandra").stdout
    assert "logins: ok; schema: present" in status, status
