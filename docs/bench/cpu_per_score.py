"""CPU per score, per process, through the distributed pipeline (docs/benchmarks.md, "The
store side made cheaper by design"): the A/B driver of that section.

With the stack up (under /work/stack.lock on a shared machine):
    .venv/bin/python docs/bench/cpu_per_score.py WORKLOAD EVENTS USERS   (WORKLOAD: new | returning)
Starts one api, one db-worker, one rank-worker under names of their own (as the bench),
appends EVENTS scores for USERS users (new: each score a new user), waits until the
db-worker group committed the topic's end and the board holds every user, and reports the
CPU seconds each process (and Cassandra, Debezium, Kafka, Redis) spent meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path

import httpx

from podium.tools.bench.isolation import BenchNames, isolated
from podium.tools.bench.processes import podium_process, running
from podium.tools.bench.workers import _until_committed, _until_ranked
from podium.pipeline.ingest import Ingest, Submission
from podium.log.kafka import KafkaLog
from podium.settings import Settings

TICK = os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK
    except (FileNotFoundError, ProcessLookupError):
        return 0.0


def engines() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        name = None
        if "java" in cmd.split(" ")[0] or "/java " in cmd:
            if "CassandraDaemon" in cmd:
                name = "cassandra"
            elif "debezium" in cmd.lower():
                name = "debezium"
            elif "kafka.Kafka" in cmd:
                name = "kafka"
        elif ("redis-server" in cmd.split(" ")[0]) and any(
            f"127.0.0.1:{port}" in cmd for port in (6379, 6380, 6381, 6382, 6383, 6384, 26379, 26380, 26381)
        ):
            name = "redis"  # the stack's (other helpers run private ones on other ports)
        if name:
            found.setdefault(name, []).append(int(pid))
    return found


async def main(workload: str, events: int, users: int) -> None:
    settings = Settings.from_env(profile="distributed")
    run_id = uuid.uuid4().hex[:8]
    logs = Path(f"/tmp/i19db-cpu-{run_id}")
    env = {"PODIUM_PROFILE": "distributed"}
    with isolated(settings, BenchNames.new(run_id, "cpu")) as names:
        procs = {
            role: podium_process([role], log_dir=logs, env=env, names_flags=names.flags())
            for role in ("api", "db-worker", "rank-worker")
        }
        log = KafkaLog(settings.kafka_bootstrap, names.ingest_topic)
        ingest = Ingest(log)
        async with (
            running(list(procs.values())),
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{procs['api'].port}", timeout=30) as api,
        ):
            warm, board = f"cpu-warm-{run_id}", f"cpu-{run_id}"
            for name in (warm, board):
                (await api.put(f"/v1/boards/{name}", json={})).raise_for_status()
            await ingest.submit([Submission(warm, f"w{i}", 1) for i in range(120)])
            await _until_ranked(api, warm, 120, 120)
            # Returning: every user scores once first (not counted), then EVENTS more.
            if workload == "returning":
                for i in range(0, users, 1000):
                    await ingest.submit([Submission(board, f"u{j}", 1) for j in range(i, min(users, i + 1000))])
                await _until_ranked(api, board, users, 300)
                await _until_committed(settings, names, time.perf_counter(), 300)
            await asyncio.sleep(3)
            pids = {r: [p.proc.pid] for r, p in procs.items() if p.proc}
            pids.update(engines())
            before = {r: sum(cpu_of(p) for p in ps) for r, ps in pids.items()}
            me0 = time.process_time()
            started = time.perf_counter()
            for i in range(0, events, 1000):
                batch = range(i, min(events, i + 1000))
                if workload == "new":
                    subs = [Submission(board, f"n{j}", 1) for j in batch]
                else:
                    subs = [Submission(board, f"u{(j * 7919) % users}", 1) for j in batch]
                await ingest.submit(subs)
            db_s = await _until_committed(settings, names, started, 300)
            wanted = events if workload == "new" else users
            await _until_ranked(api, board, wanted, 300)
            # The rank-worker: until its group has read the change topic to its end, roughly.
            await asyncio.sleep(3)
            elapsed = time.perf_counter() - started
            after = {r: sum(cpu_of(p) for p in ps) for r, ps in pids.items()}
            producer = time.process_time() - me0
            await log.close()
            for name in (warm, board):
                await api.delete(f"/v1/boards/{name}")
    per = {r: round((after[r] - before[r]) / events * 1e6, 1) for r in before}
    per["producer(this)"] = round(producer / events * 1e6, 1)
    per["total"] = round(sum(per.values()), 1)
    print(
        json.dumps(
            {
                "workload": workload,
                "events": events,
                "users": users,
                "db_stage_per_s": round(events / db_s) if db_s else 0,
                "elapsed_s": round(elapsed, 1),
                "cpu_us_per_score": per,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3])))
