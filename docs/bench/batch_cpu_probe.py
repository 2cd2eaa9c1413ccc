"""The api's CPU a score under the batch load, beside the raw producer's CPU a record, same run
(issue 19, `ingest_batch_vs_raw_kafka`).

Starts `podium api` (distributed, on a topic of its own, as the bench's ingest stage does)
from the checkout it is run from; sends the bench's batches (1,000 scores a request, 4
connections, `batch_rate`) for PROBE_S seconds (4) after a 1 s warm-up, reading the api's CPU
time (every thread, /proc) before and after; then runs the bench's raw producer loop
(`raw_kafka_per_s`) for as long, reading this process's CPU time. PROBE_ENV adds settings to
the api's environment (`PODIUM_WEBHOOK_CHECK_S=86400`); PROBE_SPY=FILE records the api with
py-spy (raw format, every thread). Run it under the lock, main and a branch back to back:

    flock -o /work/stack.lock .venv/bin/python docs/bench/batch_cpu_probe.py
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

from podium.settings import Settings
from podium.tools.bench import ingest
from podium.tools.bench.isolation import BenchNames, isolated
from podium.tools.bench.processes import podium_process, running

SECONDS = float(os.environ.get("PROBE_S", "4"))
SPY = os.environ.get("PROBE_SPY")
EXTRA_ENV = dict(kv.split("=", 1) for kv in os.environ.get("PROBE_ENV", "").split() if kv)


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main() -> None:
    settings = dataclasses.replace(Settings.from_env(profile="distributed"), auth="off", dev=True)
    run_id = uuid.uuid4().hex[:8]
    logs = Path(tempfile.mkdtemp(prefix="batch-probe-"))
    board = f"probe-{run_id}"
    with isolated(settings, BenchNames.new(run_id, "ingest")) as names:
        env = {"PODIUM_PROFILE": "distributed", **EXTRA_ENV}
        api = podium_process(["api"], log_dir=logs, env=env, names_flags=names.flags())
        async with running([api]), httpx.AsyncClient(timeout=30) as client:
            base = f"http://127.0.0.1:{api.port}"
            (await client.put(f"{base}/v1/boards/{board}", json={})).raise_for_status()
            try:
                await ingest.batch_rate(api.port, board, seconds=1.0, connections=4)  # warm up
                assert api.proc is not None
                pid = api.proc.pid
                spy = None
                if SPY:
                    spy_bin = str(Path(sys.executable).with_name("py-spy"))
                    args = ["record", "-p", str(pid), "-o", SPY, "-f", "raw", "-r", "200", "-d", str(int(SECONDS) + 1)]
                    spy = await asyncio.create_subprocess_exec(
                        spy_bin, *args, "--threads", "--nonblocking", stderr=subprocess.DEVNULL
                    )
                    await asyncio.sleep(0.5)
                c0 = cpu_s(pid)
                load = await ingest.batch_rate(api.port, board, seconds=SECONDS, connections=4)
                c1 = cpu_s(pid)
                scores = load.ok * ingest.BATCH
                if spy is not None:
                    await spy.wait()
                p0, w0 = time.process_time(), time.perf_counter()
                raw = await asyncio.to_thread(
                    ingest.raw_kafka_per_s,
                    settings.kafka_bootstrap,
                    names.ingest_topic,
                    board,
                    seconds=SECONDS,
                    linger_ms=settings.kafka_linger_ms,
                )
                raw_cpu_us = (time.process_time() - p0) / (raw * (time.perf_counter() - w0)) * 1e6
                print(
                    f"api: {scores / load.seconds:,.0f} scores/s, {(c1 - c0) / scores * 1e6:.2f} µs CPU a score; "
                    f"raw: {raw:,.0f} records/s, {raw_cpu_us:.2f} µs CPU a record; "
                    f"ratio {scores / load.seconds / raw:.3f}"
                )
            finally:
                await client.delete(f"{base}/v1/boards/{board}")


asyncio.run(main())
