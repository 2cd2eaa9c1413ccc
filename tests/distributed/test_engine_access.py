"""The local stack's engines are reachable only on loopback, and only with Podium's
passwords (var/secrets.toml): a client without them is refused, Podium's is served."""

from __future__ import annotations

import ipaddress
import os
import re
import stat
import subprocess

import pytest
import redis
from cassandra import AuthenticationFailed
from cassandra.auth import PlainTextAuthProvider
from cassandra.cluster import Cluster, NoHostAvailable

from podium.settings import Settings
from tests.distributed.stack import ROOT, cassandra_cluster

pytestmark = pytest.mark.distributed

REDIS_PORTS = (6379, 6380, 26379)  # a primary, a replica, a Sentinel


def test_the_secrets_file_is_the_users_alone(dist_settings: Settings) -> None:
    assert dist_settings.redis_password and dist_settings.cassandra_password
    assert stat.S_IMODE(os.stat(dist_settings.stack_secrets).st_mode) == 0o600


@pytest.mark.parametrize("port", REDIS_PORTS)
def test_redis_refuses_a_client_without_the_password(dist_settings: Settings, port: int) -> None:
    with redis.Redis(port=port, socket_timeout=5) as anonymous, pytest.raises(redis.AuthenticationError):
        anonymous.ping()  # NOAUTH: the default user asks for the password too
    with (
        redis.Redis(port=port, username=dist_settings.redis_username, password="wrong", socket_timeout=5) as wrong,
        pytest.raises(redis.AuthenticationError),
    ):
        wrong.ping()  # WRONGPASS
    with redis.Redis(port=port, password="wrong", socket_timeout=5) as guess, pytest.raises(redis.AuthenticationError):
        guess.ping()  # the default user's password is not guessed either
    with redis.Redis(port=port, socket_timeout=5, **dist_settings.redis_auth) as podium:
        assert podium.ping()


def cassandra_refuses(auth: PlainTextAuthProvider | None) -> bool:
    cluster = Cluster(["127.0.0.1"], protocol_version=4, auth_provider=auth)
    try:
        cluster.connect()
    except NoHostAvailable as exc:
        return any(isinstance(e, AuthenticationFailed) for e in exc.errors.values())
    finally:
        cluster.shutdown()
    return False


def test_cassandra_refuses_a_client_without_the_password(dist_settings: Settings) -> None:
    assert cassandra_refuses(None)
    assert cassandra_refuses(PlainTextAuthProvider(dist_settings.cassandra_username, "wrong"))
    assert cassandra_refuses(PlainTextAuthProvider("cassandra", "cassandra"))  # the well-known default is gone
    cluster = cassandra_cluster(protocol_version=4)
    try:
        assert cluster.connect().execute("SELECT release_version FROM system.local").one() is not None
    finally:
        cluster.shutdown()


def stack_pids() -> set[int]:
    pids = set()
    for pidfile in (ROOT / "var" / "run").glob("*.pid"):
        pid = pidfile.read_text().strip()
        if pid.isdigit() and os.path.exists(f"/proc/{pid}"):
            pids.add(int(pid))
    return pids


def test_every_listening_socket_of_the_stack_is_on_loopback(dist_settings: Settings) -> None:
    pids = stack_pids()
    assert len(pids) >= 11  # 6 Redis, 3 Sentinels, Kafka, Cassandra, Debezium (and kafka3 if up)
    listening: list[tuple[str, int]] = []
    for line in subprocess.run(["ss", "-ltnupH"], capture_output=True, text=True, check=True).stdout.splitlines():
        owners = {int(p) for p in re.findall(r"pid=(\d+)", line)}
        if owners & pids:
            local = line.split()[4]
            address = local.rsplit(":", 1)[0].strip("[]").split("%")[0]
            listening.append((address, int(owners.pop())))
    assert len(listening) >= 15, listening  # every engine's ports, and Cassandra's JMX
    for address, pid in listening:
        ip = ipaddress.ip_address(address) if address != "*" else None
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        assert ip is not None and ip.is_loopback, f"pid {pid} listens on {address}"
