"""Real engines started by the tests themselves, on 127.0.0.1 and free ports."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.server import free_port


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
            self.proc.wait(10)


def start_redis(workdir: Path, *, replica_of: int | None = None) -> RedisServer:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError(
            "redis-server is not installed: run `make test` (it installs it) or apt-get install redis-server"
        )
    port = free_port()
    workdir.mkdir(parents=True, exist_ok=True)
    args = [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    args += ["--dir", str(workdir), "--daemonize", "no", "--loglevel", "warning"]
    if replica_of is not None:
        args += ["--replicaof", "127.0.0.1", str(replica_of)]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                if s.recv(64).startswith(b"+PONG"):
                    return RedisServer(port, proc)
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"redis-server on port {port} did not start")


def wait_replica_in_sync(replica: RedisServer, timeout_s: float = 10.0) -> None:
    """Until the replica reports its link to the primary up (WAIT counts it only then)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.create_connection(("127.0.0.1", replica.port), timeout=1) as s:
            s.sendall(b"INFO replication\r\n")
            time.sleep(0.05)
            if b"master_link_status:up" in s.recv(65536):
                return
        time.sleep(0.1)
    raise RuntimeError(f"replica on port {replica.port} did not sync with its primary")
