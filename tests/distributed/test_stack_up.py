"""`podium stack up` finishes what an earlier `up` left undone. An `up` stopped after
Cassandra started and before its logins step leaves Cassandra running with its default
superuser password and no login for Podium; the next `up` used to see Cassandra running,
skip the logins, and fail at the schema with "login refused".

The test puts the stack's Cassandra back as a first start leaves it (the default superuser
password, Podium's login not set), runs `stack up` and interrupts it (Ctrl-C, to its whole
process group) the moment its logins step starts, then runs `stack up` again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path
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


def stack_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("PODIUM_BIN", "PODIUM_PYTHON")}


def stack(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "podium", "stack", *args], capture_output=True, text=True, timeout=300, env=stack_env()
    )


def logins_step_running(session: int) -> bool:
    """Whether a process of that session runs the logins step (`cassandra_roles.py`, not its --check)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if os.getsid(int(proc.name)) != session:
                continue
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except (OSError, ProcessLookupError):
            continue  # gone meanwhile
        if any(a.endswith(b"cassandra_roles.py") for a in argv) and b"--check" not in argv:
            return True
    return False


def interrupted_up() -> subprocess.CompletedProcess[str]:
    """`stack up cassandra schema`, interrupted as Ctrl-C would once its logins step starts
    and before that step logs in (its interpreter is still importing the driver)."""
    up = subprocess.Popen(
        [sys.executable, "-m", "podium", "stack", "up", "cassandra", "schema"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=stack_env(),
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while not logins_step_running(up.pid):
        assert up.poll() is None, "stack up ended before its logins step"
        assert time.monotonic() < deadline, "the logins step never started"
        time.sleep(0.005)
    os.killpg(up.pid, signal.SIGINT)
    out, _ = up.communicate(timeout=60)
    return subprocess.CompletedProcess(up.args, up.returncode, out, "")


@pytest.fixture
def secrets(running_stack: None) -> Iterator[dict[str, str]]:
    found = tomllib.loads(SECRETS.read_text())
    try:
        yield found
    finally:
        # The stack as it was, whatever the test did: the logins step is idempotent.
        subprocess.run([sys.executable, str(ROOT / "infra" / "cassandra_roles.py"), str(SECRETS)], check=True)


def test_stack_up_finishes_what_an_up_interrupted_before_the_logins_left_undone(secrets: dict[str, str]) -> None:
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

    stopped = interrupted_up()
    assert stopped.returncode != 0, stopped.stdout
    assert "schema: applied" not in stopped.stdout, stopped.stdout
    # What the interrupted up left: Cassandra running, nothing able to log in as Podium.
    assert not can_log_in(user, password), "the interrupted up set the logins after all"
    status = stack("status", "cassandra").stdout
    assert "cassandra: running" in status and "cannot log in" in status, status

    up = stack("up", "cassandra", "schema")
    assert up.returncode == 0, up.stdout + up.stderr
    assert "logins checked" in up.stdout and "schema: applied" in up.stdout

    assert eventually(lambda: can_log_in(user, password)), "Podium's login still refused"
    assert eventually(lambda: not can_log_in("cassandra", "cassandra")), "the default superuser password kept"
    status = stack("status", "cassandra").stdout
    assert "logins: ok; schema: present" in status, status
