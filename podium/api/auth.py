"""Who is calling, and may they: API keys on every request.

`Authenticate` (a plain ASGI middleware, outside everything that wants to know the
caller) checks the key a request sends as `Authorization: Bearer <key>` and records the
caller in `request.state`: `key_id` (the key's public id, never its secret) and
`key_scope`, both None without a valid key. It refuses nothing itself: each route says
what it needs (`read`, `write`, `admin` below, wrapped around its handler in api/app.py)
and is refused there, so a public route never minds a stale key. With auth off
(`PODIUM_AUTH=off`) every request passes, as if admin.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from starlette.requests import HTTPConnection
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.websockets import WebSocket

from podium.api.context import services
from podium.api.errors import refuse_websocket
from podium.domain.boards import Reads, is_valid_id
from podium.domain.keys import MISSING, REVOKED, TOO_LOW, allows
from podium.domain.keys import Scope as KeyScope
from podium.errors import BackendUnavailable, Forbidden, PodiumError, Unauthorized
from podium.plumbing.metrics import AUTH_REFUSALS

BEARER = "bearer "
UNAVAILABLE = "unavailable"  # the key store could not be read: answered 503, not 401
MESSAGES = {
    MISSING: "this needs an API key: send `Authorization: Bearer <key>` (`podium keys create`)",
    REVOKED: "this API key was revoked",
}


class Authenticate:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            verifying = identify(scope)
            if verifying is not None:
                await verifying
        await self.app(scope, receive, send)


def identify(scope: Scope) -> Awaitable[None] | None:
    """Record the caller in the request's state: none yet, and the key it sent once that is
    verified, which is the awaitable returned (None: no key to verify, with auth off or no
    key sent). A plain call, so that the lean path (api/submit_path.py) awaits nothing when
    there is nothing to wait for."""
    state = scope.setdefault("state", {})
    state["key_id"] = state["key_scope"] = state["key_refusal"] = None
    keys = scope["app"].state.services.keys
    if keys is None:
        return None
    sent = _bearer(scope["headers"])
    return _verify(keys, sent, state) if sent is not None else None


async def _verify(keys: Any, sent: str, state: dict[str, Any]) -> None:
    try:
        verdict = await keys.verify(sent)
    except BackendUnavailable:
        state["key_refusal"] = UNAVAILABLE
    else:
        if verdict.key is not None:
            state["key_id"], state["key_scope"] = verdict.key.key_id, verdict.key.scope
        state["key_refusal"] = verdict.refusal


def _bearer(headers: list[tuple[bytes, bytes]]) -> str | None:
    """The key of the Authorization header: "" for a header that is not a bearer key."""
    for name, value in headers:
        if name == b"authorization":
            text = value.decode("latin-1")
            return text[len(BEARER) :].strip() if text[: len(BEARER)].lower() == BEARER else ""
    return None


@dataclass(frozen=True, slots=True)
class Access:
    """What a route needs: a key of `scope`; with `public_reads`, no key on a public board
    (or, for the list of boards, a list of the public ones)."""

    scope: KeyScope
    public_reads: bool = False


def anonymous(conn: HTTPConnection) -> bool:
    """A caller without a key, with auth on."""
    return services(conn).keys is not None and conn.state.key_scope is None


def holds(conn: HTTPConnection, scope: KeyScope) -> bool:
    """The caller may do what `scope` allows (always, with auth off)."""
    held = conn.state.key_scope
    return services(conn).keys is None or (held is not None and allows(held, scope))


async def authorize(conn: HTTPConnection, access: Access) -> None:
    if services(conn).keys is None:
        return
    state = conn.state
    if state.key_refusal == UNAVAILABLE:
        raise BackendUnavailable("the API keys cannot be checked now; retry")
    if state.key_refusal is not None:
        _refuse(state.key_refusal)
    if state.key_scope is None:
        if access.public_reads and await _public(conn):
            return
        _refuse(MISSING)
    if not allows(state.key_scope, access.scope):
        AUTH_REFUSALS.labels(TOO_LOW).inc()
        raise Forbidden(f"this API key's scope ({state.key_scope}) does not allow this: it needs {access.scope}")


def _refuse(reason: str) -> None:
    AUTH_REFUSALS.labels(reason).inc()
    raise Unauthorized(MESSAGES.get(reason, "unknown API key"))


async def _public(conn: HTTPConnection) -> bool:
    """The route lists boards, or names a board anyone may read."""
    name = conn.path_params.get("board")
    if name is None:
        return True
    board = await services(conn).boards.find(name) if is_valid_id(name) else None
    return board is not None and board.reads is Reads.PUBLIC


Handler = TypeVar("Handler", bound=Callable[..., Awaitable[Any]])


def guard(access: Access, endpoint: Handler) -> Handler:
    """The endpoint, answering only callers `access` allows; the OpenAPI document reads
    `access` off it (api/openapi_auth.py)."""

    @functools.wraps(endpoint)
    async def guarded(conn: Any) -> Any:
        try:
            await authorize(conn, access)
        except PodiumError as exc:
            if isinstance(conn, WebSocket):
                return await refuse_websocket(conn, exc)
            raise
        return await endpoint(conn)

    guarded.access = access  # type: ignore[attr-defined]
    return guarded  # type: ignore[return-value]


def read(endpoint: Handler) -> Handler:
    return guard(Access(KeyScope.READ, public_reads=True), endpoint)


def read_with_key(endpoint: Handler) -> Handler:
    """A read about users rather than a board (a friend list, a friends board, which shows
    who follows whom): never public."""
    return guard(Access(KeyScope.READ), endpoint)


def write(endpoint: Handler) -> Handler:
    return guard(Access(KeyScope.WRITE), endpoint)


def admin(endpoint: Handler) -> Handler:
    return guard(Access(KeyScope.ADMIN), endpoint)
