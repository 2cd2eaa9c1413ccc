"""Running the ASGI app under uvicorn, from the CLI or inside another asyncio program."""

from __future__ import annotations

import asyncio

import uvicorn
from starlette.applications import Starlette


def uvicorn_server(app: Starlette, host: str, port: int) -> uvicorn.Server:
    """Uvicorn with our logging (JSON, set up by the CLI) and no access log. Live streams
    (SSE) never end on their own: a stop waits at most 5 s for them, then cancels them."""
    config = uvicorn.Config(app, host=host, port=port, log_config=None, access_log=False, timeout_graceful_shutdown=5)
    return uvicorn.Server(config)


async def start(server: uvicorn.Server) -> asyncio.Task[None]:
    """Start serving in a task and return it once the server accepts connections;
    RuntimeError if it stops before that (its own log says why)."""
    serving = asyncio.create_task(server.serve())
    while not server.started:
        if serving.done():
            await serving
            raise RuntimeError("the server did not start")
        await asyncio.sleep(0.05)
    return serving
