"""Errors → HTTP answers, in one table. Every error answer has the same shape:
{"error": {"code": "...", "message": "..."}}; no stack trace or engine error leaks."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket

from podium.api.allow import allowed_methods
from podium.api.contract.errors import Error, ErrorDetail
from podium.api.responses import answer
from podium.errors import (
    BackendUnavailable,
    BodyTooLarge,
    Conflict,
    Forbidden,
    InvalidInput,
    NotFound,
    NotHomeRegion,
    PodiumError,
    ScoreRuleBroken,
    SettingRefused,
    Unauthorized,
    Unprocessable,
    WrongRegion,
    public_message,
)

log = logging.getLogger("podium.api")

STATUS: list[tuple[type[PodiumError], int]] = [
    (BodyTooLarge, 413),  # before InvalidInput: it is one
    (InvalidInput, 400),
    (Unauthorized, 401),
    (Forbidden, 403),
    (NotFound, 404),
    (Conflict, 409),
    # RFC 9110's Misdirected Request: this server cannot answer for it; the home region's can.
    (NotHomeRegion, 421),
    (ScoreRuleBroken, 422),
    (Unprocessable, 422),
    (SettingRefused, 422),
    (BackendUnavailable, 503),
]

HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


def error_body(code: str, message: str) -> dict[str, dict[str, Any]]:
    return {"error": {"code": code, "message": message}}


def refused(code: str, message: str, status: int, headers: Mapping[str, str] | None = None, **detail: Any) -> Response:
    """The one shape of every error answer (contract/errors.py), encoded by its type."""
    return answer(Error(ErrorDetail(code=code, message=message, **detail)), status, headers=headers)


def details(exc: PodiumError) -> dict[str, Any]:
    """What an error says beyond its code and message: the rule a submission broke, and
    in a batch the first breaking item; the region to send it to instead."""
    if isinstance(exc, ScoreRuleBroken):
        return {"rule": exc.rule} | ({"index": exc.index} if exc.index is not None else {})
    if isinstance(exc, NotHomeRegion):
        return {"home_region": exc.home_region}
    if isinstance(exc, WrongRegion):
        return {"user_region": exc.user_region}
    return {}


async def podium_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PodiumError)
    status = next((s for kind, s in STATUS if isinstance(exc, kind)), 500)
    if status >= 500:  # the driver's words go to the log, not to the client
        log.warning("backend error", extra={"path": request.url.path, "error": exc.message})
    # RFC 6750: a 401 names the scheme the client should authenticate with.
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return refused(exc.code, public_message(exc), status, headers, **details(exc))


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if exc.status_code != 404 else f"no such path: {request.url.path}"
    headers = dict(exc.headers or {})
    if exc.status_code == 405 and (methods := allowed_methods(request.app.router.routes, request.scope)):
        headers["Allow"] = ", ".join(methods)
    return refused(code, message, exc.status_code, headers or None)


async def refuse_websocket(websocket: WebSocket, exc: PodiumError) -> None:
    """A WebSocket's error answer: accepted, one error frame, closed (1008, policy violation)."""
    await websocket.accept()
    await websocket.send_json({"type": "error", **error_body(exc.code, exc.message)})
    await websocket.close(code=1008)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", extra={"path": request.url.path})
    return refused("internal", public_message(exc), 500)


HANDLERS = {PodiumError: podium_error, HTTPException: http_error, Exception: unexpected_error}
