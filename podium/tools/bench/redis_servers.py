"""The Redis the index figures run on: the servers given (`--redis`), or shards the bench
starts itself (each a primary with one replica, so that `WAIT` has a replica to wait
for) and stops afterwards. And the raw engine's own write rate, by `redis-benchmark`."""

from __future__ import annotations

import contextlib
import csv
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from podium.tools.bench import free_port


@dataclass
class RedisServer:
    port: int
    proc: subprocess.Popen[bytes]

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def _ask(port: int, command: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
        s.sendall(command)
        time.sleep(0.05)
        return s.recv(65536)


def start_redis(workdir: Path, *, replica_of: int | None = None) -> RedisServer:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed: run `make system-deps` (Debian's redis-server)")
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    args += ["--dir", str(workdir), "--daemonize", "no", "--loglevel", "warning"]
    args += ["--repl-diskless-sync-delay", "0"]
    if replica_of is not None:
        args += ["--replicaof", "127.0.0.1", str(replica_of)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError):
            if _ask(port, b"PING\r\n").startswith(b"+PONG"):
                return RedisServer(port, proc)
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"redis-server on port {port} did not start")


@contextlib.contextmanager
def redis_shards(given: Sequence[str], *, shards: int = 3) -> Iterator[list[str]]:
    """The primaries' URLs: `given` as they are, or `shards` new primaries with a replica each."""
    if given:
        yield list(given)
        return
    servers: list[RedisServer] = []
    with tempfile.TemporaryDirectory(prefix="podium-bench-redis-") as tmp:
        try:
            for i in range(shards):
                primary = start_redis(Path(tmp) / f"primary{i}")
                replica = start_redis(Path(tmp) / f"replica{i}", replica_of=primary.port)
                servers += [primary, replica]
                wait_replica_in_sync(replica)
            yield [s.url for s in servers[::2]]
        finally:
            for server in servers:
                server.stop()


def wait_replica_in_sync(replica: RedisServer, timeout_s: float = 10.0) -> None:
    """Until the replica reports its link to the primary up (WAIT counts it only then)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if b"master_link_status:up" in _ask(replica.port, b"INFO replication\r\n"):
            return
        time.sleep(0.1)
    raise RuntimeError(f"replica on port {replica.port} did not sync with its primary")


def raw_zadd_per_s(url: str, *, requests: int, members: int, pipeline: int = 1000, clients: int = 1) -> float:
    """`redis-benchmark`: ZADDs a second to one fresh sorted set, `pipeline` deep, from
    `clients` connections (one, like one rank-worker), random members out of `members`."""
    binary = shutil.which("redis-benchmark")
    if binary is None:
        raise RuntimeError("redis-benchmark is not installed: run `make system-deps` (Debian's redis-tools)")
    where = urlparse(url)
    key = f"bench:redis-benchmark:{uuid.uuid4().hex}"
    args = [binary, "-h", where.hostname or "127.0.0.1", "-p", str(where.port or 6379)]
    args += ["-c", str(clients), "-P", str(pipeline), "-n", str(requests), "-r", str(members), "--csv"]
    done = subprocess.run(
        [*args, "ZADD", key, "__rand_int__", "user:__rand_int__"], capture_output=True, text=True, timeout=300
    )
    try:
        if done.returncode != 0:
            raise RuntimeError(f"redis-benchmark failed: {done.stderr[-500:]}")
        rows = [r for r in csv.reader(done.stdout.splitlines()) if r and r[0] != "test"]
        return float(rows[-1][1])
    finally:
        import redis

        with redis.Redis.from_url(url) as client:
            client.unlink(key)


def redis_benchmark_command(pipeline: int = 1000, clients: int = 1) -> str:
    return f"redis-benchmark -c {clients} -P {pipeline} -r <users> ZADD <key> __rand_int__ user:__rand_int__"
