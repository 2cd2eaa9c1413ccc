"""Live updates over WebSocket (`/v1/boards/{board}/live`) and Server-Sent Events
(`GET /v1/boards/{board}/events`): the frames of podium/usecases/live_session.py, serialised."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping

import orjson
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response, StreamingResponse
from starlette.websockets import WebSocket, WebSocketDisconnect

from podium.api.context import contract_of
from podium.api.contract.live import MAX_SEQ
from podium.api.errors import refuse_websocket
from podium.api.requests import check_id, digits, int_query
from podium.errors import InvalidInput, PodiumError
from podium.services import ApiServices
from podium.usecases.live_session import LiveSession


def _seq_param(params: Mapping[str, str], *names: str) -> int | None:
    for name in names:
        raw = params.get(name)
        if raw is not None and raw != "":
            seq = digits(raw, MAX_SEQ)
            if seq is None:
                raise InvalidInput(f"{name} must be a sequence number (an integer ≥ 0)", code="invalid_parameter")
            return seq
    return None


async def _session(conn: HTTPConnection, resume_from: int | None) -> LiveSession:
    """Check the request and build the subscriber's session (raises before anything is sent)."""
    svc: ApiServices = conn.app.state.services
    board = await svc.boards.get(check_id(conn.path_params["board"], "board"))
    params = conn.query_params
    user_id = check_id(params["user_id"], "user_id") if params.get("user_id") else None
    top = int_query(params, contract_of(conn).events_query, "top")
    cohort = await svc.cohorts.chosen(board, params.get("cohort"), user_id)
    if cohort is not None:
        await svc.cohorts.known(board, cohort)  # an unknown cohort: a 404 before anything is sent
    return LiveSession(
        svc.live,
        svc.standings,
        svc.friends,
        board,
        user_id=user_id,
        top=top,
        max_fps=svc.settings.live_max_fps,
        resume_from=resume_from,
        cohort=(svc.cohorts, cohort) if cohort is not None else None,
    )


async def events(request: Request) -> Response:
    """SSE: each frame is `id: <seq>`, `event: snapshot|delta`, `data: <json>`. A reconnecting
    EventSource sends `Last-Event-ID`; `last_event_id` in the query does the same."""
    resume = _seq_param(
        {"Last-Event-ID": request.headers.get("last-event-id", ""), **request.query_params},
        "Last-Event-ID",
        "last_event_id",
    )
    session = await _session(request, resume)

    async def body() -> AsyncIterator[str]:
        yield "retry: 1000\n\n"
        async for frame in session.frames():
            yield f"id: {frame['seq']}\nevent: {frame['type']}\ndata: {orjson.dumps(frame).decode()}\n\n"

    headers = {"cache-control": "no-cache", "x-accel-buffering": "no"}
    return StreamingResponse(body(), media_type="text/event-stream", headers=headers)


async def live(websocket: WebSocket) -> None:
    """WebSocket: each frame is one JSON text message; `resume_from` resumes after that seq."""
    try:
        session = await _session(websocket, _seq_param(websocket.query_params, "resume_from"))
    except PodiumError as exc:
        await refuse_websocket(websocket, exc)
        return
    await websocket.accept()

    async def send_frames() -> None:
        async for frame in session.frames():
            await websocket.send_text(orjson.dumps(frame).decode())  # orjson: entries embed metadata as is

    sender = asyncio.create_task(send_frames())
    try:
        while True:  # the client sends nothing we need; this notices it leaving
            receiving = asyncio.ensure_future(websocket.receive())
            done, _ = await asyncio.wait({sender, receiving}, return_when=asyncio.FIRST_COMPLETED)
            if sender in done:
                receiving.cancel()
                sender.result()
                return
            if receiving.result()["type"] == "websocket.disconnect":
                return
    except WebSocketDisconnect:
        return
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
            await sender
