"""One bench run: the stages the profile can measure, in order, under one progress bar;
then the report and the plots. Every figure the issue names is written, measured or
skipped with the reason."""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from podium.settings import Settings
from podium.tools.bench import NAMED, STAGES, Figure, skipped
from podium.tools.bench.progress import Progress
from podium.tools.bench.report import Results

UNITS = {
    "e2e_p50_ms": "ms",
    "e2e_p99_ms": "ms",
    "redis_bytes_per_user": "bytes",
    "workers_2_vs_1": "scores/s",
    "rank_apply_sharded_vs_raw_zadd": "totals/s",
    "redis_rank_cpu_us_per_score": "µs",
    "cores_per_million_scores_per_s_new": "cores",
    "cores_per_million_scores_per_s_returning": "cores",
    "db_stage_vs_raw_cassandra": "scores/s",
}
# Figures only the pipeline stage measures, on the distributed stack's own processes.
PIPELINE_ONLY = (
    "workers_2_vs_1",
    "cores_per_million_scores_per_s_new",
    "cores_per_million_scores_per_s_returning",
    "db_stage_vs_raw_cassandra",
)


@dataclass(frozen=True, slots=True)
class Options:
    quick: bool = True
    users: int = 100_000
    bucket_members: int = 10_000
    seconds: float = 3.0  # each throughput measurement
    samples: int = 200  # e2e submissions
    rate_per_s: float = 50.0  # e2e offered load
    connections: Sequence[int] = (1, 8, 32)
    events: int = 10_000  # scores of new users through the pipeline, per worker count
    returning_users: int = 10_000  # users of the returning-users load (100,000 in the full form)
    returning_rounds: int = 3  # scores each of them sends, measured, after a first one
    redis: Sequence[str] = ()  # use these Redis shards instead of starting some
    stages: Sequence[str] = STAGES
    progress: bool = True
    command: str = "podium bench"


async def run(settings: Settings, options: Options, out: Path) -> Results:
    from podium.tools.bench import plots, report

    # The bench measures the pipeline on its own machine, without keys: its servers run as a
    # dev run (the key check is a cached dict lookup, small beside a submission).
    settings = dataclasses.replace(settings, auth="off", dev=True)
    results = Results(
        settings.profile,
        run={
            "command": options.command,
            "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **{k: v for k, v in dataclasses.asdict(options).items() if k not in ("progress", "command")},
        },
    )
    stages = [s for s in options.stages if s != "workers" or settings.profile == "distributed"]
    progress = Progress([(s, _weight(s, options)) for s in stages], enabled=options.progress)
    run_id = uuid.uuid4().hex[:8]
    await asyncio.to_thread(lambda: (out / "logs").mkdir(parents=True, exist_ok=True))
    try:
        with tempfile.TemporaryDirectory(prefix="podium-bench-") as tmp:
            if "e2e" in stages:
                with progress.stage("e2e"):
                    await _e2e(settings, options, results, Path(tmp), out / "logs", run_id, progress)
            if "ingest" in stages:
                with progress.stage("ingest"):
                    await _ingest(settings, options, results, Path(tmp), out / "logs", run_id, progress)
            if "index" in stages or "apply" in stages or "social" in stages:
                await _redis_stages(options, results, stages, progress)
            if "workers" in stages:
                with progress.stage("workers"):
                    await _workers(settings, options, results, out / "logs", run_id, progress)
    finally:
        progress.close()
    for name in NAMED:
        if not any(f.name == name for f in results.figures):
            results.figures.append(skipped(name, UNITS.get(name, ""), _why_skipped(name, settings.profile, stages)))
    results.plots = await asyncio.to_thread(plots.write, out, results)
    await asyncio.to_thread(report.write, out, results)
    return results


def _weight(stage: str, o: Options) -> float:
    return {
        "e2e": o.samples / o.rate_per_s + 3,
        "ingest": 2 * len(o.connections) * o.seconds + 2 * o.seconds + 5,
        "index": o.users / 8_000 + 5,
        "apply": 3 * o.seconds + 3,
        "social": 15.0 if o.quick else 90.0,
        "workers": 60.0 + o.returning_users * (o.returning_rounds + 1) / 1_000,
    }[stage]


def _why_skipped(name: str, profile: str, stages: Sequence[str]) -> str:
    if name == "ingest_batch_vs_raw_kafka" and profile == "embedded":
        return "needs Kafka: the distributed profile"
    if name in PIPELINE_ONLY and profile == "embedded":
        return "the embedded profile runs its workers inside its one serving process: the distributed profile"
    return f"its stage was not run (stages: {', '.join(stages)})"


QUIET_CHECK_S = 86_400.0  # the first check one interval after the start: none within a stage


async def _e2e(
    settings: Settings, o: Options, results: Results, tmp: Path, logs: Path, run_id: str, progress: Progress
) -> None:
    from podium.api.app import create_app
    from podium.api.serving import start, uvicorn_server
    from podium.tools.bench import e2e, free_port
    from podium.tools.bench.processes import UNREFUSED_LIMITS

    async def served(base_url: str, path: str) -> None:
        found, board = await e2e.latencies(base_url, samples=o.samples, rate_per_s=o.rate_per_s, progress=progress)
        async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
            await client.delete(f"/v1/boards/{board}")
        results.figures += e2e.figures(found, samples=o.samples, rate_per_s=o.rate_per_s, path=path)
        results.latencies_ms["e2e submit → visible"] = found

    if settings.profile == "embedded":
        # `podium serve`, as embedded users run it: api and workers in one process.
        port = free_port()
        s = dataclasses.replace(settings, data=tmp / "e2e", **UNREFUSED_LIMITS)
        server = uvicorn_server(create_app(s), "127.0.0.1", port)
        serving = await start(server)
        try:
            await served(
                f"http://127.0.0.1:{port}",
                "api → SQLite log → db-worker → SQLite store → outbox → rank-worker → in-memory index, one process",
            )
        finally:
            server.should_exit = True
            await serving
        return
    from podium.tools.bench.isolation import BenchNames, isolated
    from podium.tools.bench.processes import podium_process, running

    with isolated(settings, BenchNames.new(run_id, "e2e")) as names:
        # As deployed (docs/operations.md): the api, the db-worker and the rank-worker each a
        # process of its own, the bench's client in this one. In one process the four shared one
        # interpreter and starved each other on a loaded machine (docs/benchmarks.md). The
        # webhook check is off, as in the ingest stage: it would announce the ended periods of
        # every board other runs left in the shared keyspace.
        env = {"PODIUM_PROFILE": "distributed", "PODIUM_WEBHOOK_CHECK_S": str(QUIET_CHECK_S)}
        processes = [
            podium_process([role], log_dir=logs, env=env, names_flags=names.flags())
            for role in ("api", "db-worker", "rank-worker")
        ]
        async with running(processes):
            await served(
                f"http://127.0.0.1:{processes[0].port}",
                "api → Kafka → db-worker → Cassandra → Debezium → Kafka → rank-worker → Redis (WAIT), a process each",
            )


async def _ingest(
    settings: Settings, o: Options, results: Results, tmp: Path, logs: Path, run_id: str, progress: Progress
) -> None:
    from podium.tools.bench import free_port, ingest
    from podium.tools.bench.processes import Process, podium_process, running

    bare = Process(
        "podium.tools.bench.bare", ["--port", str(port := free_port())], port=port, log=logs / "bare.log", env={}
    )
    board = f"bench-ingest-{run_id}"

    async def both(ours: Process, topic: str | None) -> None:
        async with running([ours, bare]), httpx.AsyncClient(timeout=30) as client:
            base = f"http://127.0.0.1:{ours.port}"
            (await client.put(f"{base}/v1/boards/{board}", json={})).raise_for_status()
            try:
                figure, sweep = await ingest.single_vs_bare(
                    ours.port, bare.port, board, seconds=o.seconds, connections=o.connections, progress=progress
                )
                results.figures.append(figure)
                results.scaling["connections"] = {f"{k} (single submissions)": v for k, v in sweep.items()}
                progress.update(0.8, "batches of 1,000")
                batches = await ingest.batch_rate(ours.port, board, seconds=o.seconds, connections=4)
                if topic is not None:
                    raw = await asyncio.to_thread(
                        ingest.raw_kafka_per_s,
                        settings.kafka_bootstrap,
                        topic,
                        board,
                        seconds=o.seconds,
                        linger_ms=settings.kafka_linger_ms,
                    )
                    results.figures.append(
                        ingest.batch_figure(
                            batches, raw, connections=4, seconds=o.seconds, linger_ms=settings.kafka_linger_ms
                        )
                    )
                else:
                    results.figures.append(
                        Figure("ingest_batch_embedded", round(batches.per_s * ingest.BATCH), "scores/s",
                               detail={"batch": ingest.BATCH, "connections": 4, "log": "SQLite, synchronous=full"})
                    )  # fmt: skip
            finally:
                await client.delete(f"{base}/v1/boards/{board}")

    if settings.profile == "embedded":
        await both(podium_process(["serve"], log_dir=logs, env={"PODIUM_DATA": str(tmp / "ingest")}), None)
        return
    from podium.tools.bench.isolation import BenchNames, isolated

    with isolated(settings, BenchNames.new(run_id, "ingest")) as names:
        # The api's webhook check announces the ended periods of every board in the shared
        # keyspace (boards other runs left): a third of this api's CPU and a load on Cassandra
        # while the raw producer runs, measured here. It is no part of ingest: off for the stage.
        env = {"PODIUM_PROFILE": "distributed", "PODIUM_WEBHOOK_CHECK_S": str(QUIET_CHECK_S)}
        api = podium_process(["api"], log_dir=logs, env=env, names_flags=names.flags())
        await both(api, names.ingest_topic)


async def _redis_stages(o: Options, results: Results, stages: Sequence[str], progress: Progress) -> None:
    from podium.tools.bench import agoragames, rank_apply
    from podium.tools.bench.index import IndexBench
    from podium.tools.bench.redis_servers import raw_zadd_per_s, redis_shards

    with redis_shards(o.redis) as urls:
        raw = await asyncio.to_thread(
            raw_zadd_per_s, urls[0], requests=300_000 if o.quick else 1_000_000, members=max(o.users, 1000)
        )
        wait_replicas = 0
        if "index" in stages:
            with progress.stage("index"):
                bench = IndexBench(urls, o.users, o.bucket_members, progress)
                await bench.open()
                wait_replicas = bench.wait_replicas
                try:
                    rates = await bench.load()
                    queries = await bench.queries()
                    results.figures += queries
                    results.figures += bench.apply_figures(rates, raw)
                    results.figures.append(await bench.shard_cpu_figure())
                    progress.update(0.8, "bytes per user")
                    results.figures.append(await bench.bytes_per_user())
                    progress.update(0.85, "agoragames' leaderboard")
                    theirs = await asyncio.to_thread(
                        agoragames.theirs, urls[0], bench.totals, bench.probes, bench.offsets
                    )
                    ours = {f.name: f.value or 0.0 for f in queries}
                    mine = {
                        "rank": ours["rank_query_vs_zrevrank"],
                        "top_page": ours["top_page_vs_zrevrange"],
                        "around": ours["around_query_vs_zrevrange"],
                        "apply": rates["sharded"],
                    }
                    results.figures += agoragames.figures(mine, theirs, o.users)
                    for label, values in bench.series.items():
                        op, layout = label.split(" ", 1)
                        results.latencies_ms[f"{op} {layout}"] = values
                finally:
                    await bench.close()
        if "apply" in stages:
            with progress.stage("apply"):
                if "index" not in stages:
                    from podium.tools.bench.index import replicas_of

                    wait_replicas = await replicas_of(urls)
                results.figures.append(
                    await rank_apply.run(
                        urls[0],
                        totals_count=min(max(o.users, 20_000), 200_000),
                        seconds=o.seconds,
                        raw_zadd_per_s=raw,
                        wait_replicas=wait_replicas,
                        progress=progress,
                    )
                )
        if "social" in stages:
            from podium.tools.bench import social

            with progress.stage("social"):
                # Two of the servers as the social shards, alone on them by now.
                results.figures += await social.run(
                    urls[:2],
                    users=min(o.users, 1_000) if o.quick else 12_000,
                    scores=2_000 if o.quick else 20_000,
                    probes=200 if o.quick else 2_000,
                    progress=progress,
                )


async def _workers(
    settings: Settings, o: Options, results: Results, logs: Path, run_id: str, progress: Progress
) -> None:
    from podium.tools.bench import workers
    from podium.tools.bench.isolation import BenchNames, isolated

    with isolated(settings, BenchNames.new(run_id, "workers")) as names:
        found = await workers.run(
            settings, names, events=o.events, returning=(o.returning_users, o.returning_rounds), log_dir=logs,
            progress=progress,
        )  # fmt: skip
    results.figures += found
    figure = next(f for f in found if f.name == "workers_2_vs_1")
    if figure.value is not None and figure.baseline is not None:
        db = figure.detail["db_stage_per_s"]
        results.scaling["worker processes"] = {
            "podium pipeline": {1: figure.baseline, 2: figure.value},
            "db-worker stage": {1: db["1"], 2: db["2"]},
        }
