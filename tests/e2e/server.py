"""Start a real `podium` process for a test and make sure it is gone afterwards."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class PodiumProcess:
    def __init__(
        self,
        data: Path,
        *,
        command: str = "serve",
        port: int | None = None,
        log: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        self.data = data
        self.command = command
        self.port = port or free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = log or data.parent / f"podium-{command}-{self.port}.log"
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, *extra: str, timeout_s: float = 30.0) -> PodiumProcess:
        self.data.parent.mkdir(parents=True, exist_ok=True)
        # A worker process serves its health check on the metrics port.
        env = {
            **os.environ,
            "PODIUM_DATA": str(self.data),
            "PODIUM_PORT": str(self.port),
            "PODIUM_METRICS_PORT": str(self.port),
            # Tests run without keys unless they are about keys (then `env` turns auth on).
            "PODIUM_AUTH": "off",
            "PODIUM_DEV": "1",
            "PODIUM_RATE_KEY_PER_S": "0",  # no rate limits: tests send in bulk from one address
            "PODIUM_RATE_ADDRESS_PER_S": "0",
            **self.env,
        }
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "podium", self.command, *extra], stdout=out, stderr=subprocess.STDOUT, env=env
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"podium exited with {self.proc.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.base_url}/healthz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"podium did not become healthy in {timeout_s}s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, exactly like a crash."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> PodiumProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
