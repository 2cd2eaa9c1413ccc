"""Errors → HTTP answers, in one table. Every error answer has the same shape:
{"error": {"code": "...", "message": "..."}}; no stack trace or engine error leaks."""

from __future__ import annotations

import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from podium.api.responses import json_response
from podium.errors import (
    BackendUnavailable,
    BodyTooLarge,
    Conflict,
    InvalidInput,
    NotFound,
    PodiumError,
    public_message,
)

log = logging.getLogger("podium.api")

STATUS: list[tuple[type[PodiumError], int]] = [
    (BodyTooLarge, 413),  # before InvalidInput: it is one
    (InvalidInput, 400),
    (NotFound, 404),
    (Conflict, 409),
    (BackendUnavailable, 503),
]

HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


async def podium_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PodiumError)
    status = next((s for kind, s in STATUS if isinstance(exc, kind)), 500)
    if status >= 500:  # the driver's words go to the log, not to the client
        log.warning("backend error", extra={"path": request.url.path, "error": exc.message})
    return json_response(error_body(exc.code, public_message(exc)), status)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if exc.status_code != 404 else f"no such path: {request.url.path}"
    return json_response(error_body(code, message), exc.status_code, headers=exc.headers)


async def unexpected_error(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error", extra={"path": request.url.path})
    return json_response(error_body("internal", public_message(exc)), 500)


HANDLERS = {PodiumError: podium_error, HTTPException: http_error, Exception: unexpected_error}
