"""The lean path of the hottest route: `POST /v1/boards/{board}/scores`, taken before
Starlette's middleware stack and router.

A single submission's api CPU (py-spy, issue 19) went a fifth into Starlette's layers
around the handler: the server-error and exception middlewares each wrapping `send`, the
router, `request_response`'s second exception wrapper. This path runs the same steps in
the same order with the same objects: `Authenticate`, `RateLimits`, the route's `write`
guard and handler, the error table (api/errors.py) for what they raise, and a 500 for
anything else, re-raised for the server's log as Starlette's `ServerErrorMiddleware` does.
So the answers are the same bytes (the contract and the error-answer tests go through it);
every other request goes to Starlette as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from podium.api.errors import HANDLERS

PREFIX = "/v1/boards/"
SUFFIX = "/scores"

Endpoint = Callable[[Request], Awaitable[Response]]
Handler = Callable[[Request, Exception], Awaitable[Response]]


def submitted_board(scope: Scope) -> str | None:
    """The board a single submission names, or None for any other request. As the route's
    `{board}`: one path segment, not empty."""
    if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
        return None
    path: str = scope["path"]
    if not path.startswith(PREFIX) or not path.endswith(SUFFIX):
        return None
    board = path[len(PREFIX) : -len(SUFFIX)]
    return board if board and "/" not in board else None


def handler_for(exc: Exception) -> Handler | None:
    """The error table's handler for `exc`, by its class's order (as Starlette looks it up)."""
    for kind in type(exc).__mro__:
        if kind in HANDLERS and kind is not Exception:  # Exception: the server-error answer, below
            return HANDLERS[kind]
    return None


class SubmissionsFirst:
    """An ASGI app: single submissions on the lean path, everything else to `rest`.
    `middleware` wraps the route's own app as the Starlette app's middleware would
    (Authenticate, then RateLimits)."""

    def __init__(self, rest: ASGIApp, endpoint: Endpoint, middleware: Callable[[ASGIApp], ASGIApp]) -> None:
        self.rest = rest
        self.endpoint = endpoint
        self.lean = middleware(self._route)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        board = submitted_board(scope)
        if board is None:
            await self.rest(scope, receive, send)
            return
        scope["path_params"] = {"board": board}
        scope["endpoint"] = self.endpoint
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.lean(scope, receive, sending)
        except Exception as exc:  # as ServerErrorMiddleware: a 500 if nothing was sent, then re-raised
            if not started:
                response = await HANDLERS[Exception](Request(scope), exc)
                await response(scope, receive, send)
            raise

    async def _route(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive, send)
        try:
            response = await self.endpoint(request)
        except Exception as exc:
            handler = handler_for(exc)
            if handler is None:
                raise
            response = await handler(request, exc)
            exc.__traceback__ = None  # as Starlette: a reused exception keeps no old tracebacks
        await response(scope, receive, send)
