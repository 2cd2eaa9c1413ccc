"""Server and worker processes a stage starts, each stopped when the stage ends."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from podium.tools.bench import free_port


class Process:
    """`python -m MODULE ARGS…` with its output in `log`, healthy once GET /healthz on
    `port` answers 200."""

    def __init__(self, module: str, args: Sequence[str], *, port: int, log: Path, env: Mapping[str, str]) -> None:
        self.module, self.args, self.port, self.log, self.env = module, list(args), port, log, dict(env)
        self.proc: subprocess.Popen[bytes] | None = None

    def _spawn(self) -> subprocess.Popen[bytes]:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            return subprocess.Popen(
                [sys.executable, "-m", self.module, *self.args],
                stdout=out,
                stderr=subprocess.STDOUT,
                env={**os.environ, "PODIUM_AUTH": "off", "PODIUM_DEV": "1", **self.env},  # as bench/run.py
            )

    async def start(self, timeout_s: float = 60.0) -> None:
        self.proc = await asyncio.to_thread(self._spawn)
        deadline = time.monotonic() + timeout_s
        async with httpx.AsyncClient(timeout=1) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.module} exited with {self.proc.returncode}: see {self.log}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"http://127.0.0.1:{self.port}/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.1)
        await self.stop()
        raise RuntimeError(f"{self.module} did not become healthy in {timeout_s:.0f} s: see {self.log}")

    async def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(self.proc.wait, 15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait, 5)


def podium_process(
    command: Sequence[str], *, log_dir: Path, env: Mapping[str, str], names_flags: Sequence[str] = ()
) -> Process:
    """A `podium` command (serve, api, db-worker, rank-worker) on a free port; with
    `names_flags`, under a stage's own Kafka names (podium.tools.bench.proc)."""
    port = free_port()
    listen = ["--metrics-port", str(port)] if command[0] in ("db-worker", "rank-worker") else ["--port", str(port)]
    if names_flags:
        module, args = "podium.tools.bench.proc", [*names_flags, "--", *command, *listen]
    else:
        module, args = "podium", [*command, *listen]
    return Process(module, args, port=port, log=log_dir / f"{command[0]}-{port}.log", env={**LIMITS_ENV, **env})


# The bench's load comes from one address, far past any production limit: its api servers
# check the limits on every request, as a production one does, but never refuse.
UNREFUSED_LIMITS: dict[str, Any] = {
    "rate_key_per_s": 1e9,
    "rate_address_per_s": 1e9,
    "rate_key_burst": 10**9,
    "rate_address_burst": 10**9,
}
LIMITS_ENV = {f"PODIUM_{name.upper()}": str(value) for name, value in UNREFUSED_LIMITS.items()}


@contextlib.asynccontextmanager
async def running(processes: Sequence[Process]) -> AsyncIterator[Sequence[Process]]:
    try:
        await asyncio.gather(*(p.start() for p in processes))
        yield processes
    finally:
        await asyncio.gather(*(p.stop() for p in processes))
