"""The small HTTP face of a worker process: /healthz and /metrics."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from podium.api.errors import HANDLERS
from podium.api.responses import json_response
from podium.bootstrap import open_workers
from podium.plumbing import heap
from podium.plumbing.metrics import metrics_endpoint
from podium.services import WorkerServices
from podium.settings import Settings


async def healthz(request: Request) -> Response:
    """200 while every worker loop runs; 503 while one is failing and being restarted.
    A worker's last error is told in Podium's words (`last_error`, `last_error_code`); the
    engine's words are in the log line of the failure."""
    services: WorkerServices = request.app.state.services
    workers = {
        w.name: {
            "running": w.running,
            "restarts": w.restarts,
            "last_error": w.last_error,
            "last_error_code": w.last_error_code,
        }
        for w in services.workers
    }
    ok = all(w.running for w in services.workers)
    return json_response({"status": "ok" if ok else "failing", "workers": workers}, 200 if ok else 503)


def create_worker_app(settings: Settings, role: str) -> Starlette:
    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_workers(settings, [role]) as services:
            app.state.services = services
            if role == "db-worker":
                heap.settle()  # its start out of the collector's passes, and fewer passes
            yield

    routes = [Route("/healthz", healthz, methods=["GET"]), Route("/metrics", metrics_endpoint, methods=["GET"])]
    return Starlette(routes=routes, exception_handlers=HANDLERS, lifespan=lifespan)
