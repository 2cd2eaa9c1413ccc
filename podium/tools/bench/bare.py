"""The trivial endpoint single submissions are measured against: the same server stack
as Podium's API (uvicorn with its settings, Starlette, orjson), the same route and body,
and nothing behind it — it reads the JSON, checks two fields and answers 202.
`python -m podium.tools.bench.bare --port N`."""

from __future__ import annotations

import argparse
import sys

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from podium.api.serving import uvicorn_server
from podium.cli_args import port

ACCEPTED = orjson.dumps({"accepted": True})


async def submit(request: Request) -> Response:
    body = orjson.loads(await request.body())
    if not isinstance(body, dict) or "user_id" not in body or "score" not in body:
        return Response(b'{"error": "bad"}', 400, media_type="application/json")
    return Response(ACCEPTED, 202, media_type="application/json")


async def healthz(request: Request) -> Response:
    return Response(b'{"status": "ok"}', media_type="application/json")


def app() -> Starlette:
    return Starlette(routes=[Route("/v1/boards/{board}/scores", submit, methods=["POST"]), Route("/healthz", healthz)])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m podium.tools.bench.bare")
    parser.add_argument("--port", type=port, required=True)
    args = parser.parse_args(argv)
    uvicorn_server(app(), "127.0.0.1", args.port).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
