"""CPU time of the pipeline's processes, read before and after a load: what one score costs
in each stage, and so how many cores a million scores a second would take.

A process on this machine is read from /proc (user + system time of every thread, its
children's included), found by its pid or by the loopback port it listens on; a Redis
server from its own `INFO cpu` (the main thread, which runs every command: the capacity a
shard has is that one thread's), so that a Redis elsewhere is measured too.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
LISTEN = "0A"  # the TCP state in /proc/net/tcp


def process_cpu_s(pid: int, *, children: bool = True) -> float:
    """Seconds of CPU (user + system, all threads) the process has used; with `children`,
    its living descendants' too (a JVM's or a server's helpers). 0 if it is gone."""
    pids = [pid, *(_descendants(pid) if children else [])]
    return sum(_stat_cpu_s(Path(f"/proc/{p}/stat")) for p in pids)


def thread_cpu_s(pid: int) -> float:
    """Seconds of CPU of the process's main thread alone."""
    return _stat_cpu_s(Path(f"/proc/{pid}/task/{pid}/stat"))


def _stat_cpu_s(path: Path) -> float:
    try:
        text = path.read_text()
    except OSError:
        return 0.0
    # The command name (field 2) is in parentheses and may hold spaces: split after it.
    fields = text[text.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S  # utime, stime (fields 14 and 15)


def _descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = (entry / "stat").read_text()
            parent = int(text[text.rindex(")") + 2 :].split()[1])
            parents.setdefault(parent, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def listening_pids(ports: Iterable[int]) -> dict[int, int]:
    """The pid listening on each of `ports` (TCP, this machine), for those found."""
    wanted = set(ports)
    inodes: dict[str, int] = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                cols = line.split()
                port = int(cols[1].rsplit(":", 1)[1], 16)
                if cols[3] == LISTEN and port in wanted:
                    inodes[f"socket:[{cols[9]}]"] = port
    found: dict[int, int] = {}
    if not inodes:
        return found
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                with contextlib.suppress(OSError):
                    held = inodes.get(os.readlink(fd))
                    if held is not None:
                        found.setdefault(held, int(entry.name))
    return found


async def redis_cpu_s(client: Any) -> dict[str, float]:
    """A Redis server's CPU seconds from `INFO cpu`: its main thread, and the whole process."""
    info = await client.info("cpu")
    main = float(info.get("used_cpu_sys_main_thread", 0.0)) + float(info.get("used_cpu_user_main_thread", 0.0))
    return {"main_thread": main, "process": float(info["used_cpu_sys"]) + float(info["used_cpu_user"])}


async def replica_addresses(client: Any) -> list[tuple[str, int]]:
    """The (host, port) of each replica a Redis primary reports (INFO replication)."""
    info = await client.info("replication")
    found = []
    for key, value in info.items():
        if key.startswith("slave") and isinstance(value, dict):
            found.append((str(value["ip"]), int(value["port"])))
    return found


@dataclass
class Meter:
    """The processes of each stage (`pids`: /proc) and the Redis servers of each stage
    (`redis`: clients, their main threads from INFO); `read` sums each stage's CPU seconds."""

    pids: dict[str, list[int]] = field(default_factory=dict)
    redis: dict[str, list[Any]] = field(default_factory=dict)

    def add_pid(self, stage: str, pid: int | None) -> None:
        if pid is not None:
            self.pids.setdefault(stage, []).append(pid)

    def add_redis(self, stage: str, client: Any) -> None:
        self.redis.setdefault(stage, []).append(client)

    @property
    def stages(self) -> list[str]:
        return list(dict.fromkeys([*self.pids, *self.redis]))

    async def read(self) -> dict[str, float]:
        seconds = {stage: sum(process_cpu_s(p) for p in pids) for stage, pids in self.pids.items()}
        for stage, clients in self.redis.items():
            for client in clients:
                seconds[stage] = seconds.get(stage, 0.0) + (await redis_cpu_s(client))["main_thread"]
        return seconds

    async def close(self) -> None:
        for clients in self.redis.values():
            for client in clients:
                await client.aclose()


def us_per_score(before: Mapping[str, float], after: Mapping[str, float], scores: int) -> dict[str, float]:
    """Microseconds of CPU a score in each stage, between two readings."""
    return {stage: round((after[stage] - before.get(stage, 0.0)) * 1e6 / max(scores, 1), 1) for stage in after}


def cores_per_million_per_s(us: Mapping[str, float]) -> float:
    """Cores that 1 M scores a second take at these µs a score: 1 µs a score is one core."""
    return round(sum(us.values()), 1)


def missing(meter: Meter, wanted: Sequence[str]) -> list[str]:
    """The stages of `wanted` the meter found no process for (not on this machine)."""
    return [s for s in wanted if s not in meter.stages]


async def redis_shards_meter(primary_urls: Sequence[str]) -> Meter:
    """A meter of Redis shards: stage "primaries" (the URLs given) and "replicas" (those the
    primaries report, logged in to as the primary's URL says)."""
    from urllib.parse import urlparse

    import redis.asyncio as aioredis

    meter = Meter()
    for url in primary_urls:
        primary = aioredis.Redis.from_url(url)
        meter.add_redis("primaries", primary)
        where = urlparse(url)
        for host, port in await replica_addresses(primary):
            replica = aioredis.Redis(host=host, port=port, username=where.username, password=where.password)
            meter.add_redis("replicas", replica)
    return meter
