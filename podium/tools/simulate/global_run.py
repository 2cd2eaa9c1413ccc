"""`podium simulate global`: players on three continents, one home region holding the
store and the global board, the other regions mirroring their ingest home and reading
ranks from a replica of the rank index; one region cut off for a while, then healed.

Measured, in every region: how long after a score was accepted (appended to its region's
ingest log) the region's rank index shows it: for a player's own scores (its own rank)
and for everyone else's (the global top seen from there), before, during and after the
partition. Checked at the end: every total, in the store and in every region's index,
equals a plain sum of the accepted scores; every region's ranking equals the home one.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from podium.domain.boards import Board
from podium.pipeline.ingest import Submission
from podium.store.sqlite import SqliteStore
from podium.tools.bench.progress import Progress
from podium.tools.simulate.link import Link
from podium.tools.simulate.region import Region, home_region, remote_region

BOARD = Board("global")
# One-way delays from the home region (us-east), half the typical public round-trip times
# (cloud providers' inter-region latency tables; docs/global.md cites them).
ONE_WAY_MS = {"eu": 38.0, "ap": 110.0}
JITTER_MS = 2.0
PHASES = ("steady", "partition", "healed")


@dataclass(frozen=True)
class Options:
    home: str = "us"
    one_way_ms: dict[str, float] = field(default_factory=lambda: dict(ONE_WAY_MS))
    players: int = 40  # in each region
    matches_per_player_s: float = 1.0
    steady_s: float = 10.0
    partition_s: float = 5.0
    healed_s: float = 5.0
    cut: str = "ap"  # the region cut off from home during the partition
    converge_timeout_s: float = 30.0
    seed: int = 1
    progress: bool = True

    @property
    def regions(self) -> list[str]:
        return [self.home, *self.one_way_ms]


@dataclass(frozen=True)
class Accepted:
    user_id: str
    region: str
    version: int  # the user's n-th score: the version of its total once applied
    at: float  # monotonic time the region's log acknowledged it
    phase: str


@dataclass
class Outcome:
    accepted: list[Accepted]
    seen: dict[str, dict[str, list[tuple[float, int]]]]  # region → user → (time, version)
    points: dict[str, int]  # every player scores the same points a match
    totals: dict[str, dict[str, int]]  # "store" and each region → user → total
    same_ranking: dict[str, bool]  # region → its ranking equals the home one
    converge_s: float | None  # after the players stopped, until everything was exact
    mirrored: dict[str, dict[str, int]]  # region → copied, fetched again and skipped
    link_losses: dict[str, int]
    partition: tuple[float, float]  # when the cut began and healed (monotonic)


async def simulate(options: Options, data: Path) -> Outcome:
    """Run the world once; `data` holds one directory a region, created already."""
    rng = random.Random(options.seed)
    links = {
        r: Link(f"{options.home}-{r}", ms / 1000, jitter_s=JITTER_MS / 1000, seed=options.seed + i)
        for i, (r, ms) in enumerate(options.one_way_ms.items())
    }
    progress = Progress(
        [
            ("steady", options.steady_s),
            ("partition", options.partition_s),
            ("healed", options.healed_s),
            ("converge", 2),
        ],
        enabled=options.progress,
        label="simulate global",
    )
    async with contextlib.AsyncExitStack() as stack:
        home, store, boards = await stack.enter_async_context(home_region(options.home, data / options.home))
        await boards.create(BOARD)
        regions: dict[str, Region] = {options.home: home}
        mirrors = {}
        for name, link in links.items():
            regions[name], mirrors[name] = await stack.enter_async_context(
                remote_region(name, data / name, home, store, boards, link)
            )
        stop = asyncio.Event()
        loops = [asyncio.create_task(run(stop)) for r in regions.values() for run in r.loops]
        players = {f"{r}-p{i}": r for r in regions for i in range(options.players)}
        points = {user: rng.randint(1, 50) for user in players}
        world = World(options, regions, points, rng)
        game_over = asyncio.Event()
        tasks = [asyncio.create_task(world.play(user, region, game_over)) for user, region in players.items()]
        try:
            with progress.stage("steady"):
                await _elapse(progress, options.steady_s, world)
            cut_at = time.monotonic()
            links[options.cut].cut()
            world.phase = "partition"
            with progress.stage("partition"):
                await _elapse(progress, options.partition_s, world)
            links[options.cut].heal()
            healed_at = time.monotonic()
            world.phase = "healed"
            with progress.stage("healed"):
                await _elapse(progress, options.healed_s, world)
            game_over.set()
            await asyncio.gather(*tasks)
            stopped = time.monotonic()
            with progress.stage("converge"):
                converged = await _converge(regions, store, world.expected(), options.converge_timeout_s)
            converge_s = time.monotonic() - stopped if converged else None
            totals = await _totals(regions, store, list(players))
            top = await home.index.page(BOARD, 1, len(players))
            same = {name: await r.index.page(BOARD, 1, len(players)) == top for name, r in regions.items()}
        finally:
            progress.close()
            stop.set()
            for task in [*tasks, *loops]:
                task.cancel()
            await asyncio.gather(*tasks, *loops, return_exceptions=True)
    return Outcome(
        world.accepted,
        {name: dict(r.seen.versions) for name, r in regions.items()},
        points,
        totals,
        same,
        converge_s,
        {name: {"copied": m.copied, "skipped": m.skipped} for name, m in mirrors.items()},
        {link.name: link.lost for link in links.values()},
        (cut_at, healed_at),
    )


class World:
    """The players: each plays matches one after another and submits its points after each."""

    def __init__(self, options: Options, regions: dict[str, Region], points: dict[str, int], rng: random.Random):
        self._options = options
        self._regions = regions
        self._points = points
        self._rng = rng
        self.phase = PHASES[0]
        self.accepted: list[Accepted] = []
        self._scores: dict[str, int] = defaultdict(int)

    async def play(self, user: str, region: str, stop: asyncio.Event) -> None:
        rate = self._options.matches_per_player_s
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), self._rng.uniform(0, 1 / rate))  # not all at once
        while not stop.is_set():
            await self._regions[region].ingest.submit([Submission(BOARD.name, user, self._points[user])])
            self._scores[user] += 1
            self.accepted.append(Accepted(user, region, self._scores[user], time.monotonic(), self.phase))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self._rng.expovariate(rate))

    def expected(self) -> dict[str, int]:
        """Each player's total: a plain sum of its accepted scores."""
        return {user: self._scores[user] * points for user, points in self._points.items() if self._scores[user]}


async def _elapse(progress: Progress, seconds: float, world: World) -> None:
    started = time.monotonic()
    while (spent := time.monotonic() - started) < seconds:
        progress.update(spent / seconds, f"{len(world.accepted):,} scores accepted")
        await asyncio.sleep(min(0.2, seconds - spent))


async def _totals(regions: dict[str, Region], store: SqliteStore, users: list[str]) -> dict[str, dict[str, int]]:
    found = await store.load_totals([(BOARD.name, u) for u in users])
    totals = {"store": {user: t.total for (_, user), t in found.items()}}
    for name, region in regions.items():
        entries = await region.index.entries(BOARD, users)
        totals[name] = {e.user_id: e.score for e in entries if e is not None}
    return totals


async def _converge(regions: dict[str, Region], store: SqliteStore, expected: dict[str, int], timeout_s: float) -> bool:
    """Wait until the store and every region's index hold exactly the expected totals."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        totals = await _totals(regions, store, list(expected))
        if all(found == expected for found in totals.values()):
            return True
        await asyncio.sleep(0.1)
    return False


def staleness_ms(outcome: Outcome) -> dict[tuple[str, str, str], list[float]]:
    """(phase, region, "own" or "others") → how long each accepted score took to reach the
    region's index, in ms. A score accepted before the cut and still on its way to a region
    when the cut began counts in the partition: the steady figures are those the partition
    did not touch. A score never seen is left out (the totals check counts it)."""
    cut_at = outcome.partition[0]
    first_seen: dict[tuple[str, str], tuple[list[int], list[float]]] = {}
    for region, users in outcome.seen.items():
        for user, applied in users.items():
            versions, times, best = [], [], 0
            for at, version in applied:  # in the order applied: the newest version so far
                if version > best:
                    best = version
                    versions.append(version)
                    times.append(at)
            first_seen[(region, user)] = (versions, times)
    delays: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for a in outcome.accepted:
        for region in outcome.seen:
            versions, times = first_seen.get((region, a.user_id), ([], []))
            i = bisect.bisect_left(versions, a.version)
            if i < len(versions):
                whose = "own" if region == a.region else "others"
                phase = "partition" if a.phase == "steady" and times[i] > cut_at else a.phase
                delays[(phase, region, whose)].append(max(0.0, times[i] - a.at) * 1000)
    return delays
