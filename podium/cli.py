"""The `podium` command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import sys
from pathlib import Path

import uvicorn

from podium import __version__, demo, logs
from podium.api.app import create_app
from podium.errors import InvalidInput
from podium.settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="podium", description="Podium, a real-time leaderboard service for games.")
    parser.add_argument("--version", action="version", version=f"podium {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("serve", "run the API and the whole pipeline in one process"),
        ("demo", "serve, with simulated players on the board 'demo'"),
    ):
        cmd = commands.add_parser(name, help=help_text)
        cmd.add_argument("--host", help="address to listen on (PODIUM_HOST, default 127.0.0.1)")
        cmd.add_argument("--port", type=int, help="port to listen on (PODIUM_PORT, default 8000)")
        cmd.add_argument("--data", type=Path, help="data directory (PODIUM_DATA, default ./.podium)")
        cmd.add_argument("--profile", help="embedded (PODIUM_PROFILE, default embedded)")
        if name == "demo":
            cmd.add_argument("--players", type=int, default=200, help="simulated players (default 200)")
            cmd.add_argument("--rate", type=float, default=20.0, help="matches a second (default 20)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env(host=args.host, port=args.port, data=args.data, profile=args.profile)
    except InvalidInput as exc:
        print(f"podium: {exc.message}", file=sys.stderr)
        return 2
    logs.configure(settings.log_level)
    if args.command == "serve":
        return serve(settings)
    return run_demo(settings, args.players, args.rate)


def server(settings: Settings) -> uvicorn.Server:
    config = uvicorn.Config(
        create_app(settings), host=settings.host, port=settings.port, log_config=None, access_log=False
    )
    return uvicorn.Server(config)


def serve(settings: Settings) -> int:
    print(f"podium: serving on http://{settings.host}:{settings.port} (data in {settings.data})", file=sys.stderr)
    server(settings).run()
    return 0


def run_demo(settings: Settings, players: int, rate: float) -> int:
    base = f"http://{settings.host}:{settings.port}"

    async def both() -> None:
        srv = server(settings)
        serving = asyncio.create_task(srv.serve())
        while not srv.started:
            if serving.done():
                return await serving
            await asyncio.sleep(0.05)
        print(
            f"""
Podium demo: {players} simulated players are playing on the board 'demo'.

  Top 10:          curl -s '{base}/v1/boards/demo/top?limit=10'
  A player:        curl -s '{base}/v1/boards/demo/users/ada'
  Around a player: curl -s '{base}/v1/boards/demo/users/ada/around?radius=3'
  The board:       curl -s '{base}/v1/boards/demo'
  API document:    {base}/openapi.json

Press Ctrl-C to stop.
""",
            flush=True,
        )
        players_task = asyncio.create_task(demo.play(base, players_count=players, matches_per_s=rate))
        try:
            await serving
        finally:
            players_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await players_task

    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(both())
    return 0
