"""`podium stack warm`: scores sent through the whole distributed pipeline before the stack
says it is ready, and everything they left deleted after.

Right after a start, the JVMs (Cassandra, Kafka, Debezium) run their request paths
interpreted, and Podium's own drivers have not yet opened their connections and
prepared their statements: within a minute of `stack up`, submit → visible took 1.4–1.8 s
at p99 against 150–400 ms on the same stack warm (docs/benchmarks.md). What a production
readiness check does, this does before `stack up` returns: it drives the real path —
api → Kafka → db-worker (Cassandra's reads and writes) → Debezium's commit-log reader
→ Kafka → rank-worker → Redis with `WAIT` → the `wait=true` answer — until that path
answers as a warm one does.

How: an api and its workers in this process (as `podium bench`'s e2e stage runs them),
on an ingest topic and consumer groups of their own, so that no worker of the stack's
own groups loses partitions to it. On a board of its own it sends rounds, each a batch
of new users' scores (the per-row paths, a thousand times a round), then single
submissions answered with `wait=true` at an even rate, alone (the request paths a
player's client waits on, measured as the bench's e2e stage measures them). It stops
once `SETTLED_ROUNDS` rounds in a row answered every single submission within
`settle_ms`, after at least `min_rounds`, or at `budget_s` whatever the figures (a
slow machine still gets its stack). Then it deletes the board (its totals, rank index,
history): its users' totals go with it, so a privacy export of a real user never shows
it and no warm-up user is left in the store (which boards a user has a total on is read
from the totals themselves).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from podium.settings import Settings

SETTLED_ROUNDS = 2


@dataclass(frozen=True, slots=True)
class WarmUp:
    batch: int = 1000  # new users' scores in each round's batch
    singles: int = 50  # single submissions with wait=true in each round
    singles_per_s: float = 50.0  # their rate: an open loop, as the bench's e2e stage sends
    settle_ms: float = 300.0  # a round is warm when every single answered within this
    min_rounds: int = 4  # the JIT compiles what ran thousands of times: not fewer scores than this
    budget_s: float = 90.0  # whatever the figures, ready after this


@dataclass(frozen=True, slots=True)
class Round:
    number: int
    scores: int
    slowest_ms: float  # the slowest single submission's submit → visible
    median_ms: float
    late: int  # singles not visible within the wait (answered 202)

    def line(self) -> str:
        return (
            f"warm: round {self.number}: {self.scores} scores, single submit → visible "
            f"p50 {self.median_ms:.0f} ms, slowest {self.slowest_ms:.0f} ms"
            + (f", {self.late} not visible in time" if self.late else "")
        )


@dataclass(frozen=True, slots=True)
class Warmed:
    rounds: list[Round]
    seconds: float
    settled: bool
    board: str
    users: list[str]  # every user it scored (all deleted again)
    ingest_topic: str  # its own, deleted after with its consumer groups


def run(settings: Settings, warm: WarmUp, say: Callable[[str], None]) -> Warmed:
    """Warm the running stack's pipeline, then clean up after it; what it did."""
    from podium.tools.bench.isolation import BenchNames, isolated

    run_id = uuid.uuid4().hex[:8]
    own = BenchNames.new(run_id, "warm")
    with isolated(settings, own):
        return asyncio.run(_warm(settings, warm, say, run_id, own.ingest_topic))


async def _warm(settings: Settings, warm: WarmUp, say: Callable[[str], None], run_id: str, topic: str) -> Warmed:
    from podium.api.app import create_app
    from podium.api.serving import start, uvicorn_server
    from podium.tools.bench import free_port

    # A dev api without keys or rate limits, on 127.0.0.1 only, for this step alone. Rates of
    # 0 turn the limits off (no Redis bucket at all). With the bench's very high limits a test
    # session's warm-up was once refused with a 429, not explained: three leasing limiters at
    # those rates refused none of 246,900 checks (2026-12-07).
    settings = dataclasses.replace(settings, auth="off", dev=True, rate_key_per_s=0.0, rate_address_per_s=0.0)
    board = f"stack-warm-{run_id}"
    users: list[str] = []  # every user scored, filled as they are sent (for the test: none left after)
    rounds: list[Round] = []
    started = time.monotonic()
    port = free_port()
    server = uvicorn_server(create_app(settings), "127.0.0.1", port)
    serving = await start(server)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=60) as client:
            (await client.put(f"/v1/boards/{board}", json={})).raise_for_status()
            try:
                last_s = 0.0  # the last round's length: no round begins that would end past the budget
                while not rounds or not (settled(rounds, warm) or time.monotonic() - started + last_s > warm.budget_s):
                    number = len(rounds) + 1
                    began = time.monotonic()
                    rounds.append(await _round(client, board, number, f"warm-{run_id}-{number}", warm, users))
                    last_s = time.monotonic() - began
                    say(rounds[-1].line())
            except BaseException:
                # Cleaned up all the same, but the round's failure is the one to tell.
                with contextlib.suppress(Exception):
                    await client.delete(f"/v1/boards/{board}")
                raise
            (await client.delete(f"/v1/boards/{board}")).raise_for_status()
    finally:
        server.should_exit = True
        await serving
    return Warmed(rounds, time.monotonic() - started, settled(rounds, warm), board, users, topic)


def settled(rounds: list[Round], warm: WarmUp) -> bool:
    last = rounds[-SETTLED_ROUNDS:]
    return (
        len(rounds) >= warm.min_rounds
        and len(last) == SETTLED_ROUNDS
        and all(r.late == 0 and r.slowest_ms <= warm.settle_ms for r in last)
    )


async def _round(
    client: httpx.AsyncClient, board: str, number: int, prefix: str, warm: WarmUp, users: list[str]
) -> Round:
    batch_users = [f"{prefix}-b{i}" for i in range(warm.batch)]
    single_users = [f"{prefix}-s{i}" for i in range(warm.singles)]
    users += batch_users + single_users
    taken: list[float] = []
    late = 0

    async def batch() -> None:
        scores = [{"user_id": u, "score": i % 1000} for i, u in enumerate(batch_users)]
        (await client.post(f"/v1/boards/{board}/scores/batch?wait=true", json={"scores": scores})).raise_for_status()

    async def single(user: str, score: int) -> None:
        nonlocal late
        sent = time.perf_counter()
        answer = await client.post(f"/v1/boards/{board}/scores?wait=true", json={"user_id": user, "score": score})
        answer.raise_for_status()
        if answer.status_code == 200:
            taken.append((time.perf_counter() - sent) * 1000)
        else:
            late += 1  # 202: durable, not visible within the wait

    # The batch first, then the singles alone: what is measured is a player's wait on a
    # stack not busy with the warm-up's own bulk (measured at load 9, singles sent beside
    # each batch waited 2-4 s behind it and no round could settle).
    await batch()
    tasks = []
    began = time.perf_counter()
    for i, user in enumerate(single_users):
        tasks.append(asyncio.create_task(single(user, i)))
        # On schedule, not after a fixed pause: a late wake-up does not lower the rate.
        await asyncio.sleep(max(0.0, began + (i + 1) / warm.singles_per_s - time.perf_counter()))
    await asyncio.gather(*tasks)
    taken.sort()
    slowest, median = (taken[-1], taken[len(taken) // 2]) if taken else (math.inf, math.inf)
    return Round(number, len(batch_users) + len(single_users), slowest, median, late)
