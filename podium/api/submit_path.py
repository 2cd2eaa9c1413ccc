"""The lean path of the hottest route: `POST /v1/boards/{board}/scores`, taken before
Starlette's middleware stack and router.

A single submission's api CPU (py-spy, issue 19) went a fifth into Starlette's layers
around the handler: the server-error and exception middlewares each wrapping `send`, the
router, `request_response`'s second exception wrapper. This path runs the same steps in
the same order: `Authenticate`'s, `RateLimits`', the route's `write` guard and its handler,
as plain calls of one coroutine (below); the error table (api/errors.py) for what they
raise, and a 500 for anything else, re-raised for the server's log as Starlette's
`ServerErrorMiddleware` does.
So the answers are the same bytes (the contract and the error-answer tests go through it);
every other request goes to Starlette as before.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from podium.api.auth import Access, Authenticate, authorize, identify
from podium.api.errors import HANDLERS
from podium.api.rate_limits import RateLimits

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

    The lean path runs the app's middleware's steps (`identify`, then the rate limits'
    `refusal`), the route's guard (`authorize`) and its handler as plain calls of one
    coroutine: as a chain of wrapping ASGI apps they were ten coroutines resumed for every
    answer, and a wait for nothing where nothing needed one (no key to check, auth off).
    So the app's middleware must be the steps this path knows, checked when it is built."""

    def __init__(self, rest: ASGIApp, endpoint: Endpoint, middleware: Sequence[object], limits: RateLimits) -> None:
        if list(middleware) != [Authenticate, RateLimits]:
            raise TypeError(f"the lean path runs Authenticate and RateLimits, not {middleware}: extend it")
        self.rest = rest
        self.endpoint = endpoint
        self.handler: Endpoint = endpoint.__wrapped__  # type: ignore[attr-defined]  # the route's, unguarded
        self.access: Access = endpoint.access  # type: ignore[attr-defined]
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        board = submitted_board(scope)
        if board is None:
            await self.rest(scope, receive, send)
            return
        scope["path_params"] = {"board": board}
        scope["endpoint"] = self.endpoint
        answering = False  # the answer is being sent: past its start, no 500 can follow it
        try:
            verifying = identify(scope)
            if verifying is not None:
                await verifying
            if not self.limits.off:
                refused = await self.limits.refusal(scope)
                if refused is not None:
                    answering = True
                    await refused(scope, receive, send)
                    return
            request = Request(scope, receive, send)
            try:
                if request.app.state.services.keys is not None:  # with auth off, every caller may
                    await authorize(request, self.access)
                response = await self.handler(request)
            except Exception as exc:
                handler = handler_for(exc)
                if handler is None:
                    raise
                response = await handler(request, exc)
                exc.__traceback__ = None  # as Starlette: a reused exception keeps no old tracebacks
            answering = True
            await response(scope, receive, send)
        except Exception as exc:  # as ServerErrorMiddleware: a 500 if nothing was sent, then re-raised
            if not answering:
                response = await HANDLERS[Exception](Request(scope), exc)
                await response(scope, receive, send)
            raise
