"""The `podium` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from podium import __version__
from podium.api.serving import start, uvicorn_server
from podium.cli_args import board, key_id, number, port, replay_start, whole
from podium.domain.keys import Scope
from podium.errors import BackendUnavailable, InvalidInput
from podium.plumbing import logs
from podium.settings import Settings
from podium.tools import demo
from podium.tools.bench import STAGES as BENCH_STAGES

WORKER_PORTS = {"db-worker": 9101, "rank-worker": 9102}
REPO = Path(__file__).resolve().parent.parent


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(argv) if argv is not None else sys.argv[1:]  # as typed, for the records a run writes
    try:
        settings = Settings.from_env(
            file=args.settings,
            host=getattr(args, "host", None),
            port=getattr(args, "port", None),
            data=getattr(args, "data", None),
            profile=getattr(args, "profile", None),
        )
    except InvalidInput as exc:
        print(f"podium: {exc.message}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level, secrets=settings.secrets)
    try:
        code: int = args.run(settings, args)
    except BackendUnavailable as exc:
        print(f"podium: {exc.message}", file=sys.stderr)
        return 1
    return code


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="podium", description="Podium, a real-time leaderboard service for games.")
    parser.add_argument("--version", action="version", version=f"podium {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str, run: object, *, listens: bool = False) -> argparse.ArgumentParser:
        cmd = commands.add_parser(name, help=help_text, description=help_text)
        cmd.set_defaults(run=run)
        cmd.add_argument("--profile", help="embedded or distributed (PODIUM_PROFILE, default embedded)")
        cmd.add_argument("--settings", type=Path, help="a TOML file of settings (PODIUM_SETTINGS); env and flags win")
        if listens:
            cmd.add_argument("--host", help="address to listen on (PODIUM_HOST, default 127.0.0.1)")
            cmd.add_argument("--port", type=port, help="port to listen on (PODIUM_PORT, default 8000)")
            cmd.add_argument(
                "--data", type=Path, help="data directory, embedded profile (PODIUM_DATA, default ./.podium)"
            )
        return cmd

    command("serve", "run the API and the whole pipeline in one process", run_serve, listens=True)
    demo_cmd = command("demo", "serve, with simulated players on the board 'demo'", run_demo, listens=True)
    demo_cmd.add_argument("--players", type=whole(1, 100_000), default=200, help="simulated players (default 200)")
    demo_cmd.add_argument("--rate", type=number(0, 10_000), default=20.0, help="matches a second (default 20)")
    command("api", "run only the HTTP API (distributed profile)", run_api, listens=True)
    for role in WORKER_PORTS:
        worker = command(role, f"run only the {role} (distributed profile)", run_worker)
        worker.set_defaults(role=role)
        worker.add_argument(
            "--metrics-port", type=port, help=f"/metrics and /healthz port (default {WORKER_PORTS[role]})"
        )
    check = command("check", "health check of a running process: exits 0 if healthy, 1 if not", run_check)
    check.add_argument("process", choices=["api", *WORKER_PORTS])
    check.add_argument("--url", help="base URL of the process (default: its default local address)")
    buckets = command("buckets", "a board's score buckets: range, shard, members, writes a second", run_buckets)
    buckets.add_argument("board", type=board)
    buckets.add_argument("--url", help="base URL of the API (default http://PODIUM_HOST:PODIUM_PORT)")
    reconcile = command(
        "reconcile", "compare the rank index with the store, repair what drifted, report it", run_reconcile
    )
    reconcile.add_argument(
        "--board", type=board, action="append", help="only this board (again for more; default: all)"
    )
    reconcile.add_argument("--dry-run", action="store_true", help="check and report, repair nothing; exit 1 on drift")
    reconcile.add_argument("--url", help="base URL of the API (default http://PODIUM_HOST:PODIUM_PORT)")
    reconcile.add_argument("--report", type=Path, help="where to write the JSON report (default DATA/reconcile/…)")
    reconcile.add_argument("--data", type=Path, help="data directory, for the default report path (PODIUM_DATA)")
    rebuild = command("rebuild", "refill the rank index from the store while serving, with progress", run_rebuild)
    rebuild.add_argument("--board", type=board, help="the board to rebuild (default: every board)")
    rebuild.add_argument(
        "--force",
        action="store_true",
        help="take over a board's rebuild at once (one whose api process died is ended within PODIUM_JOB_LEASE_S)",
    )
    rebuild.add_argument("--url", help="base URL of the API (default http://PODIUM_HOST:PODIUM_PORT)")
    replay = command("replay", "re-apply the change log from an offset or a time into the rank index", run_replay)
    replay.add_argument(
        "--from",
        dest="start",
        type=replay_start,
        required=True,
        metavar="OFFSET|TIME",
        help="an offset, or a time (ISO 8601, UTC)",
    )
    replay.add_argument("--url", help="base URL of the API (default http://PODIUM_HOST:PODIUM_PORT)")
    command("schema", "create the Cassandra schema and Kafka topics if missing (distributed profile)", run_schema)
    bench = command("bench", "measure every stage against the raw engine under it, in one run", run_bench)
    bench.add_argument("--quick", action="store_true", help="the short form: 100k users, 3 s a measurement (minutes)")
    bench.add_argument(
        "--out", type=Path, default=Path("bench-results"), help="where to write bench.json, bench.md, plots"
    )
    bench.add_argument(
        "--users", type=whole(1, 10**8), help="users on the index board (default 1 M; 100k with --quick)"
    )
    bench.add_argument(
        "--bucket-members", type=whole(1, 10**8), help="bucket split threshold (default users/10, at most 100k)"
    )
    bench.add_argument(
        "--seconds", type=number(0, 3600), help="length of each throughput measurement (default 10; 3 with --quick)"
    )
    bench.add_argument(
        "--samples", type=whole(1, 10**6), help="submit-to-visible samples at 50/s (default 2000; 200 with --quick)"
    )
    bench.add_argument(
        "--events",
        type=whole(1, 10**8),
        help="new users' scores through the pipeline, per worker count (default 50k; 10k quick)",
    )
    bench.add_argument(
        "--returning-users",
        type=whole(1, 10**8),
        help="users of the pipeline's returning-users load, each scoring 4 times (default 100k; 10k quick)",
    )
    bench.add_argument("--redis", metavar="URLS", help="Redis shards for the index figures (default: start three)")
    bench.add_argument("--stages", help=f"only these stages, comma-separated (default all: {','.join(BENCH_STAGES)})")
    bench.add_argument("--no-progress", action="store_true", help="no progress bar")
    bench.add_argument(
        "--index",
        metavar="URLS",
        help="only the index figures, on these Redis shards: the same as --stages index --redis URLS",
    )
    simulate = command(
        "simulate", "simulate a deployment with Podium's embedded parts: `global` (docs/global.md)", run_simulate
    )
    simulate.add_argument("world", choices=["global"], help="global: regions, latencies and a partition")
    simulate.add_argument("--quick", action="store_true", help="the short form: 4 s steady, 3 s cut, 3 s healed")
    simulate.add_argument("--players", type=whole(1, 10_000), help="players in each region (default 40)")
    simulate.add_argument("--steady-s", type=number(0, 3600), help="seconds before the partition (default 10)")
    simulate.add_argument("--partition-s", type=number(0, 3600), help="seconds the region is cut off (default 5)")
    simulate.add_argument("--healed-s", type=number(0, 3600), help="seconds after the heal (default 5)")
    simulate.add_argument("--cut", choices=["eu", "ap"], help="the region cut off from home (default ap)")
    simulate.add_argument("--out", type=Path, default=Path("sim-results"), help="where to write global.json")
    simulate.add_argument("--doc", type=Path, help="also write the figures into this file between its markers")
    simulate.add_argument("--no-progress", action="store_true", help="no progress bar")
    keys = command("keys", "create, list and revoke API keys (stored hashed; a key is shown once)", run_keys)
    keys.add_argument("--data", type=Path, help="data directory, embedded profile (PODIUM_DATA, default ./.podium)")
    where = argparse.ArgumentParser(add_help=False)  # after the action too: `podium keys list --data D`
    where.add_argument("--profile", default=argparse.SUPPRESS, help="embedded or distributed (PODIUM_PROFILE)")
    where.add_argument("--settings", type=Path, default=argparse.SUPPRESS, help="a TOML file of settings")
    where.add_argument("--data", type=Path, default=argparse.SUPPRESS, help="data directory, embedded (PODIUM_DATA)")
    actions = keys.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser("create", parents=[where], help="make a key; print it, the only time it is shown")
    create.add_argument("--scope", required=True, choices=[s.value for s in Scope], help="read < write < admin")
    create.add_argument("--name", default="", help="a label: who or what the key is for")
    actions.add_parser("list", parents=[where], help="every key's id, name, scope, creation and revocation")
    revoke = actions.add_parser("revoke", parents=[where], help="revoke a key by its id")
    revoke.add_argument("key_id", type=key_id, metavar="ID")
    social = command(
        "social", "grow the social shards: fill a joining shard from the store, prune the old homes", run_social
    )
    social.add_argument(
        "action",
        choices=["fill", "prune"],
        help="fill: copy the store onto the shards listed as +NAME in PODIUM_SOCIAL_SHARDS; "
        "prune: once every shard serves, take moved users off their old homes",
    )
    stack = command("stack", "install, start and stop the local Kafka, Cassandra, Debezium and Redis", run_stack)
    stack.add_argument(
        "action",
        choices=["up", "down", "status", "warm"],
        help="warm: send scores through the whole pipeline until it answers as a warm one (`up` ends with it)",
    )
    stack.add_argument("components", nargs="*", help="redis kafka cassandra schema debezium warm (default: all)")
    stack.add_argument(
        "--no-warm",
        action="store_true",
        help="`up` without its warm-up (tests that restart engines; PODIUM_STACK_WARM=0)",
    )
    stack.add_argument(
        "--warm-s", type=number(1, 3600), help="the warm-up's most seconds (PODIUM_STACK_WARM_S, default 90)"
    )
    return parser


def run_serve(settings: Settings, args: argparse.Namespace) -> int:
    from podium.api.app import create_app

    where = settings.data if settings.profile == "embedded" else "the distributed stack"
    print(
        f"podium: serving on http://{settings.host}:{settings.port} ({settings.profile}, data in {where})",
        file=sys.stderr,
    )
    uvicorn_server(create_app(settings), settings.host, settings.port).run()
    return 0


def run_api(settings: Settings, args: argparse.Namespace) -> int:
    from podium.api.app import create_app

    if settings.profile != "distributed":
        print("podium: `podium api` runs apart from the workers only in the distributed profile;"
              " use `podium serve` for the embedded one", file=sys.stderr)  # fmt: skip
        return 2
    uvicorn_server(create_app(settings, ["api"]), settings.host, settings.port).run()
    return 0


def run_worker(settings: Settings, args: argparse.Namespace) -> int:
    from podium.api.worker_app import create_worker_app

    if settings.profile != "distributed":
        print(f"podium: `podium {args.role}` runs on its own only in the distributed profile", file=sys.stderr)
        return 2
    port = args.metrics_port or settings.metrics_port or WORKER_PORTS[args.role]
    uvicorn_server(create_worker_app(settings, args.role), "127.0.0.1", port).run()
    return 0


def run_check(settings: Settings, args: argparse.Namespace) -> int:
    default = f"http://{settings.host}:{settings.port}" if args.process == "api" else None
    url = args.url or default or f"http://127.0.0.1:{WORKER_PORTS[args.process]}"
    try:
        answer = httpx.get(f"{url}/healthz", timeout=5)
        healthy = answer.status_code == 200 and answer.json().get("status") == "ok"
    except (httpx.HTTPError, ValueError) as exc:
        print(f"{args.process} at {url}: unreachable ({exc})")
        return 1
    print(f"{args.process} at {url}: {'healthy' if healthy else 'UNHEALTHY'} {answer.text}")
    return 0 if healthy else 1


def call_api(url: str, method: str, path: str, *, key: str, timeout: float, body: object = None) -> Any:
    """The API's JSON answer to a call with the admin `key`, or None after saying on stderr why there is none."""
    headers = {"authorization": f"Bearer {key}"} if key else None
    try:
        answer = httpx.request(method, f"{url}{path}", json=body, timeout=timeout, headers=headers)
    except httpx.HTTPError as exc:
        print(f"podium: the API at {url} is unreachable ({exc})", file=sys.stderr)
        return None
    if answer.status_code != 200:
        print(f"podium: {answer.json()['error']['message']}", file=sys.stderr)
        return None
    return answer.json()


def run_buckets(settings: Settings, args: argparse.Namespace) -> int:
    url = args.url or f"http://{settings.host}:{settings.port}"
    found = call_api(url, "GET", f"/v1/admin/boards/{args.board}/buckets", key=settings.api_key, timeout=10)
    if found is None:
        return 1
    rows = found["buckets"]
    header = f"{'bucket':>6} {'shard':>5} {'members':>9} {'moving':>7} {'writes/s':>9}"
    print(f"{header}  from (score key, reached at µs, user)")
    for b in rows:
        low = b["lower"]
        start = "the top" if low is None else f"{low['score_key']}, {low['reached_at_us']}, {low['user_id']}"
        print(f"{b['id']:>6} {b['shard']:>5} {b['members']:>9} {b.get('moving', 0):>7} {b['writes_per_s']:>9}  {start}")
    moving = sum(b.get("moving", 0) for b in rows)
    print(
        f"{len(rows)} bucket(s), {sum(b['members'] for b in rows)} members" + (f", {moving} moving" if moving else "")
    )
    return 0


def run_reconcile(settings: Settings, args: argparse.Namespace) -> int:
    """Through the API: in the embedded profile the index lives in the serving process."""
    from podium.usecases.reconcile import report_path, summary, write_report

    url = args.url or f"http://{settings.host}:{settings.port}"
    request: dict[str, object] = {"dry_run": args.dry_run}
    if args.board:
        request["boards"] = args.board
    report = call_api(url, "POST", "/v1/admin/reconcile", key=settings.api_key, timeout=3600, body=request)
    if report is None:
        return 1
    path = write_report(report, args.report or report_path(settings.data))
    print(summary(report))
    print(f"podium: wrote {path}")
    totals = report["totals"]
    # A dry run that found drift fails, as does a repair that left some: both need a look.
    return 1 if (report["dry_run"] and totals["drift"]) or totals["remaining"] else 0


def run_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    from podium.cli_progress import run_job

    body: dict[str, object] = {"force": args.force} | ({"board": args.board} if args.board else {})
    return run_job(
        args.url or f"http://{settings.host}:{settings.port}", "/v1/admin/rebuild", body, key=settings.api_key
    )


def run_replay(settings: Settings, args: argparse.Namespace) -> int:
    from podium.cli_progress import run_job

    return run_job(
        args.url or f"http://{settings.host}:{settings.port}",
        "/v1/admin/replay",
        {"from": args.start},  # checked already (cli_args.replay_start): an offset is a number
        key=settings.api_key,
    )


def run_schema(settings: Settings, args: argparse.Namespace) -> int:
    from podium.bootstrap import prepare_distributed

    prepare_distributed(settings)
    print(f"podium: Cassandra keyspace {settings.cassandra_keyspace!r} and Kafka topics are ready")
    return 0


def run_bench(settings: Settings, args: argparse.Namespace) -> int:
    from podium.tools.bench.index import default_bucket_members
    from podium.tools.bench.run import Options, run

    users = args.users or (100_000 if args.quick else 1_000_000)
    urls = args.index or args.redis or ""
    stages = ["index"] if args.index else [s.strip() for s in (args.stages or ",".join(BENCH_STAGES)).split(",")]
    unknown = set(stages) - set(BENCH_STAGES)
    if unknown:
        print(f"podium: unknown bench stages {sorted(unknown)}; choose from {', '.join(BENCH_STAGES)}", file=sys.stderr)
        return 2
    options = Options(
        quick=args.quick,
        users=users,
        bucket_members=args.bucket_members or default_bucket_members(users),
        seconds=args.seconds or (3.0 if args.quick else 10.0),
        samples=args.samples or (200 if args.quick else 2000),
        connections=(1, 8, 32, 128) if args.quick else (1, 4, 16, 64, 256),
        events=args.events or (10_000 if args.quick else 50_000),
        returning_users=args.returning_users or (10_000 if args.quick else 100_000),
        redis=[u.strip() for u in urls.split(",") if u.strip()],
        stages=stages,
        progress=not args.no_progress,
        command=" ".join(["podium", *sys.argv[1:]]),
    )
    logs.configure("warning", secrets=settings.secrets)  # the bench's own progress bar, not the services' info logs
    results = asyncio.run(run(settings, options, args.out))
    for f in results.figures:
        shown = "skipped" if f.value is None else f"{f.value:>12,} {f.unit}"
        ratio = f"  ratio {f.ratio}" if f.ratio is not None else ""
        print(f"{f.name:>36} {shown}{ratio}")
    print(f"podium: wrote {args.out / 'bench.json'}, {args.out / 'bench.md'} and {len(results.plots)} plots")
    return 0


def run_simulate(settings: Settings, args: argparse.Namespace) -> int:
    import dataclasses
    import tempfile

    from podium.tools.simulate.global_run import Options, simulate
    from podium.tools.simulate.report import summarize, table, write_doc, write_json

    chosen = {"players": args.players, "steady_s": args.steady_s, "partition_s": args.partition_s}
    chosen |= {"healed_s": args.healed_s, "cut": args.cut}
    base = Options(steady_s=4.0, partition_s=3.0, healed_s=3.0) if args.quick else Options()
    options = dataclasses.replace(base, progress=not args.no_progress, **{k: v for k, v in chosen.items() if v})
    logs.configure("warning")  # the run's progress bar, not the services' info logs
    with tempfile.TemporaryDirectory(prefix="podium-simulate-") as tmp:
        data = Path(tmp)
        for region in options.regions:
            (data / region).mkdir()
        outcome = asyncio.run(simulate(options, data))
    result = summarize(options, outcome, " ".join(["podium", *_run_flags(args.argv)]))
    print(table(result))
    write_json(result, args.out / "global.json")
    print(f"podium: wrote {args.out / 'global.json'}" + (f" and {args.doc}" if args.doc else ""))
    if args.doc:
        write_doc(result, args.doc)
    return 0 if result["exact"] else 1


def _run_flags(argv: list[str]) -> list[str]:
    """The command as typed, without the flags that only say where results go: what the
    figures came from."""
    kept: list[str] = []
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg in ("--out", "--doc"):
            skip = True
        elif arg != "--no-progress" and not arg.startswith(("--out=", "--doc=")):
            kept.append(arg)
    return kept


def run_keys(settings: Settings, args: argparse.Namespace) -> int:
    return asyncio.run(_keys(settings, args))


async def _keys(settings: Settings, args: argparse.Namespace) -> int:
    """Straight on the key store, not through the API: the first admin key has no key to ask with."""
    from podium.bootstrap import managed_keys

    async with managed_keys(settings) as keys:
        if args.action == "create":
            record, key = await keys.create(Scope(args.scope), args.name)
            print(key)  # alone on stdout: KEY=$(podium keys create --scope write)
            print(f"podium: made the {record.scope} key {record.key_id}; it is shown only now. "
                  "Send it as `Authorization: Bearer <key>`", file=sys.stderr)  # fmt: skip
        elif args.action == "list":
            print(f"{'id':<16}  {'scope':<5}  {'created at (UTC)':<19}  {'revoked':<7}  name")
            for r in await keys.records():
                created = time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(r.created_at_us / 1e6))
                print(f"{r.key_id:<16}  {r.scope:<5}  {created:<19}  {'yes' if r.revoked_at_us else 'no':<7}  {r.name}")
        elif await keys.revoke(args.key_id):
            print(f"podium: revoked {args.key_id}; a running api refuses it within {settings.key_cache_s:g} s "
                  "(PODIUM_KEY_CACHE_S)")  # fmt: skip
        else:
            print(f"podium: no key {args.key_id!r} (see `podium keys list`)", file=sys.stderr)
            return 1
    return 0


def run_social(settings: Settings, args: argparse.Namespace) -> int:
    """Straight on the store and the social shards (distributed profile; docs/operations.md)."""
    if settings.profile != "distributed" or not settings.social_shard_list:
        print("podium: `podium social` grows the social shards: the distributed profile with "
              "PODIUM_SOCIAL_SHARDS set", file=sys.stderr)  # fmt: skip
        return 2
    return asyncio.run(_social(settings, args.action))


async def _social(settings: Settings, action: str) -> int:
    from podium.bootstrap import connect_store, redis_social_index
    from podium.social.grow import fill_joining, prune_moved
    from podium.social.sharded import ShardedSocialIndex
    from podium.usecases.board_settings import Boards
    from podium.usecases.period_boards import with_periods

    store = await asyncio.to_thread(connect_store, settings)
    social = redis_social_index(settings)
    try:
        assert isinstance(social, ShardedSocialIndex)
        try:
            if action == "fill":
                every = await with_periods(Boards(store), await store.board_names())
                done = await fill_joining(store, every, social)
                print(f"podium: filled the joining shards: {done['friend_lists']} friend lists, "
                      f"{done['totals']} totals; now drop the + in every process's PODIUM_SOCIAL_SHARDS")  # fmt: skip
            else:
                print(f"podium: pruned {await prune_moved(store, social)} moved users' lists off their old homes")
        except ValueError as exc:
            print(f"podium: {exc}", file=sys.stderr)
            return 2
    finally:
        await social.close()
        await store.close()
    return 0


def run_stack(settings: Settings, args: argparse.Namespace) -> int:
    script = REPO / "infra" / "stack.sh"
    if not script.exists():
        print(f"podium: {script} not found; `podium stack` runs from a source checkout", file=sys.stderr)
        return 2
    if args.action == "warm":
        return run_stack_warm(settings, args)
    # The engines' helpers (Cassandra's logins, `podium schema`, the warm-up) run under this
    # very install, whichever virtualenv it is in, not only the checkout's .venv.
    env = {**os.environ, "PODIUM_PYTHON": sys.executable}
    if args.no_warm:
        env["PODIUM_STACK_WARM"] = "0"
    if args.warm_s is not None:
        env["PODIUM_STACK_WARM_S"] = str(args.warm_s)
    return subprocess.call(["bash", str(script), args.action, *args.components], env=env)


def run_stack_warm(settings: Settings, args: argparse.Namespace) -> int:
    """Scores through the whole pipeline until it answers as a warm one, then deleted
    (podium/tools/stack_warm.py); `stack up` runs it last."""
    from podium.tools import stack_warm

    if settings.profile != "distributed":
        print("podium: `podium stack warm` warms the distributed stack: --profile distributed", file=sys.stderr)
        return 2
    budget = args.warm_s if args.warm_s is not None else float(os.environ.get("PODIUM_STACK_WARM_S") or 90)
    warm = stack_warm.WarmUp(budget_s=budget)
    done = stack_warm.run(settings, warm, lambda line: print(f"podium: {line}", flush=True))
    verdict = "warm" if done.settled else f"not settled within {budget:g} s (ready all the same)"
    print(f"podium: warm-up: {sum(r.scores for r in done.rounds)} scores in {len(done.rounds)} rounds, "
          f"{done.seconds:.1f} s, {verdict}; its board and users deleted", flush=True)  # fmt: skip
    return 0


def run_demo(settings: Settings, args: argparse.Namespace) -> int:
    from dataclasses import replace

    from podium.api.app import create_app

    # The simulated players and the browser share one address; a webhook on this machine is
    # allowed unless the operator's allow-list says otherwise (the README's examples set one).
    settings = replace(settings, rate_address_per_s=0, webhook_allow=settings.webhook_allow or "127.0.0.1,localhost")
    base = f"http://{settings.host}:{settings.port}"

    async def both() -> None:
        keys = await demo.make_keys(settings)
        try:
            serving = await start(uvicorn_server(create_app(settings), settings.host, settings.port))
        except RuntimeError:
            return  # uvicorn has logged why (a port in use, say)
        print(
            f"""
Podium demo: {args.players} simulated players are playing on the board 'demo'.
{demo.keys_note(keys)}

  Top 10:          curl -s '{base}/v1/boards/demo/top?limit=10'
  A player:        curl -s '{base}/v1/boards/demo/users/ada'
  Around a player: curl -s '{base}/v1/boards/demo/users/ada/around?radius=3'
  The board:       curl -s '{base}/v1/boards/demo'
  API document:    {base}/openapi.json

Press Ctrl-C to stop.
""",
            flush=True,
        )
        players = asyncio.create_task(demo.play(base, players_count=args.players, matches_per_s=args.rate, keys=keys))
        try:
            await serving
        finally:
            players.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await players

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(both())
    return 0
