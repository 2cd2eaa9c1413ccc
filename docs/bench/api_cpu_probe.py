"""The api's CPU a single submission, against the bare endpoint's CPU a request (issue 19).

Starts `podium serve` (embedded) or `podium api` (distributed, on a topic of its own) from
the checkout it is run from, and the bench's bare endpoint; sends each the bench's single
submissions (`closed_loop`, the same client) at the given connection counts, one after the
other; reads each server's CPU time (every thread, /proc) before and after. Prints one JSON
line a measurement. Run it from a checkout with that checkout's python, main and a branch
back to back (distributed: under `flock /work/stack.lock`):

    .venv/bin/python docs/bench/api_cpu_probe.py --profile embedded --connections 64 --rounds 2
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

import podium
from podium.settings import Settings
from podium.tools.bench import free_port
from podium.tools.bench.http_load import closed_loop
from podium.tools.bench.ingest import single_requests
from podium.tools.bench.processes import Process, podium_process, running

TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_S  # utime, stime of every thread


def threads_s(pid: int) -> dict[str, float]:
    """CPU seconds per thread name (threads of one name summed; the event loop's: "main")."""
    found: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = "main" if task.name == str(pid) else (task / "comm").read_text().strip()
            found[name] = found.get(name, 0.0) + cpu_s_of(task / "stat")
        except OSError:  # the thread ended meanwhile
            continue
    return found


def cpu_s_of(stat: Path) -> float:
    fields = stat.read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) * TICK_S


async def measure(
    port: int, pid: int, requests: list[bytes], connections: int, seconds: float, broker_pid: int | None = None
) -> dict[str, object]:
    before, threads_before = cpu_s(pid), threads_s(pid)
    broker_before = cpu_s(broker_pid) if broker_pid else 0.0
    load = await closed_loop(port, requests, connections=connections, seconds=seconds)
    used, threads_after = cpu_s(pid) - before, threads_s(pid)
    broker_used = cpu_s(broker_pid) - broker_before if broker_pid else 0.0
    assert not load.failed, load.statuses
    per = max(load.ok, 1)
    by_thread = {n: round(1e6 * (t - threads_before.get(n, 0.0)) / per, 1) for n, t in threads_after.items()}
    return {
        "per_s": round(load.per_s),
        "cpu_us": round(1e6 * used / per, 1),
        "threads_us": {n: us for n, us in sorted(by_thread.items(), key=lambda x: -x[1]) if us >= 1},
        # The Kafka broker's whole process (other clients of a shared broker included).
        **({"broker_us": round(1e6 * broker_used / per, 1)} if broker_pid else {}),
    }


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", choices=("embedded", "distributed"), default="embedded")
    parser.add_argument("--connections", type=int, nargs="+", default=[64])
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--label", default=str(Path(podium.__file__).parent.parent))
    parser.add_argument("--spy", help="also record the api with py-spy (raw, threads) to this file")
    parser.add_argument("--broker-pid", type=int, help="also read this process's CPU (the Kafka broker's)")
    args = parser.parse_args()
    logs = Path(tempfile.mkdtemp(prefix="api-probe-"))
    bare = Process("podium.tools.bench.bare", ["--port", str(p := free_port())], port=p, log=logs / "bare.log", env={})
    board = f"probe-{uuid.uuid4().hex[:8]}"
    if args.profile == "embedded":
        ours = podium_process(["serve"], log_dir=logs, env={"PODIUM_DATA": str(logs / "data")})
        await run(ours, bare, board, args)
        return
    from podium.tools.bench.isolation import BenchNames, isolated

    with isolated(Settings.from_env(), BenchNames.new(board, "probe")) as names:
        ours = podium_process(["api"], log_dir=logs, env={"PODIUM_PROFILE": "distributed"}, names_flags=names.flags())
        await run(ours, bare, board, args)


async def run(ours: Process, bare: Process, board: str, args: argparse.Namespace) -> None:
    requests = single_requests(board)
    async with running([ours, bare]), httpx.AsyncClient(timeout=30) as client:
        base = f"http://127.0.0.1:{ours.port}"
        (await client.put(f"{base}/v1/boards/{board}", json={})).raise_for_status()
        for port in (ours.port, bare.port):
            await closed_loop(port, requests, connections=4, seconds=0.5)
        for r in range(args.rounds):
            for c in args.connections:
                row: dict[str, object] = {
                    "label": args.label,
                    "round": r,
                    "connections": c,
                    "at": time.strftime("%H:%M:%S"),
                }
                for name, proc in (("api", ours), ("bare", bare)):
                    assert proc.proc is not None
                    if args.spy and name == "api" and r == 0:
                        await asyncio.create_subprocess_exec(
                            str(Path(sys.executable).parent / "py-spy"),
                            "record",
                            "-r",
                            "200",
                            "-f",
                            "raw",
                            "--threads",
                            "-d",
                            str(int(args.seconds)),
                            "-p",
                            str(proc.proc.pid),
                            "-o",
                            args.spy,
                        )
                        await asyncio.sleep(0.5)
                    broker = args.broker_pid if name == "api" else None
                    row[name] = await measure(proc.port, proc.proc.pid, requests, c, args.seconds, broker)
                api, bare_ = row["api"], row["bare"]
                row["ratio"] = round(api["per_s"] / bare_["per_s"], 3)  # type: ignore[index, operator]
                print(json.dumps(row), flush=True)
        await client.delete(f"{base}/v1/boards/{board}")


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
