"""`podium stack up` finishes what an earlier `up` left undone. An `up` stopped after
Cassandra started and before its logins step leaves Cassandra running with its default
superuser password and no login for Podium; the next `up` used to see Cassandra running,
skip the logins, and fail at the schema with "login refused"."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Iterator

import pytest

from tests.distributed.stack import ROOT

pytestmark = pytest.mark.distributed

SECRETS = ROOT / "var" / "secrets.toml"


def can_log_in(user: str, password: str) -> bool:
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster, NoHostAvailable
    from cassandra.policies import RoundRobinPolicy

    cluster = Cluster(
        ["127.0.0.1"],
        protocol_version=4,
        auth_provider=PlainTextAuthProvider(user, password),
        load_balancing_policy=RoundRobinPolicy(),
    )
    try:
        cluster.connect()
        return True
    except NoHostAvailable:
        return False
    finally:
        cluster.shutdown()


def eventually(check: Callable[[], bool], what: str, timeout_s: float = 30) -> None:
    """Logins are cached by Cassandra for a moment (credentials_validity): poll."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"not within {timeout_s} s: {what}"
        time.sleep(0.5)


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
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster
    from cassandra.policies import RoundRobinPolicy

    user, password, admin = (
        secrets["cassandra_username"],
        secrets["cassandra_password"],
        secrets["cassandra_admin_password"],
    )
    cluster = Cluster(
        ["127.0.0.1"],
        protocol_version=4,
        auth_provider=PlainTextAuthProvider("cassandra", admin),
        load_balancing_policy=RoundRobinPolicy(),
    )
    try:
        session = cluster.connect()
        session.execute("ALTER ROLE cassandra WITH PASSWORD = 'cassandra'")
        session.execute(f"ALTER ROLE {user} WITH PASSWORD = 'not_set_yet'")
    finally:
        cluster.shutdown()
    eventually(lambda: not can_log_in(user, password), "Podium's login refused")
    status = stack("status", "cassandra").stdout
    assert "cannot log in" in status, status

    up = stack("up", "cassandra", "schema")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "logins checked" in up.stdout and "schema: applied" in up.stdout

    eventually(lambda: can_log_in(user, password), "Podium's login accepted again")
    eventually(lambda: not can_log_in("cassandra", "cassandra"), "the default superuser password replaced")
    status = stack("status", "cassandra").stdout
    assert "logins: ok; schema: present" in status, status
