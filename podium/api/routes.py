"""The v1 HTTP contract: boards, score submissions and rank queries."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from podium.api.requests import bool_param, check_choice, check_id, check_score, fields, int_param, read_json
from podium.api.responses import json_response
from podium.bootstrap import Services
from podium.domain.boards import Board, Operator, Order
from podium.domain.totals import LogPosition
from podium.errors import InvalidInput, UserNotFound
from podium.ingest import Ingest, Submission

ORDERS = tuple(o.value for o in Order)
OPERATORS = tuple(o.value for o in Operator)
MAX_TOP_LIMIT = 1000
MAX_OFFSET = 10_000_000_000
MAX_RADIUS = 100


def services(request: Request) -> Services:
    svc: Services = request.app.state.services
    return svc


def ingest_of(svc: Services) -> Ingest:
    assert svc.ingest is not None, "the api role always opens the ingest log"
    return svc.ingest


async def board_of(request: Request) -> Board:
    name = check_id(request.path_params["board"], "board")
    return await services(request).boards.get(name)


def user_of(request: Request) -> str:
    return check_id(request.path_params["user_id"], "user_id")


async def put_board(request: Request) -> Response:
    svc = services(request)
    name = check_id(request.path_params["board"], "board")
    body = fields(await read_json(request, svc.settings.max_body_bytes, allow_empty=True), (), ("order", "operator"))
    board = Board(
        name,
        Order(check_choice(body.get("order", "desc"), "order", ORDERS)),
        Operator(check_choice(body.get("operator", "incr"), "operator", OPERATORS)),
    )
    stored, created = await svc.boards.create(board)
    return json_response(await board_json(svc, stored), 201 if created else 200)


async def list_boards(request: Request) -> Response:
    return json_response({"boards": await services(request).boards.names()})


async def get_board(request: Request) -> Response:
    return json_response(await board_json(services(request), await board_of(request)))


async def board_json(svc: Services, board: Board) -> dict[str, Any]:
    return {**board.to_json(), "users": await svc.index.count(board)}


def parse_submission(item: Any, where: str) -> Submission:
    body = fields(item, ("user_id", "score"), ("key",), where=where)
    key = check_id(body["key"], "key") if body.get("key") is not None else None
    return Submission("", check_id(body["user_id"], "user_id"), check_score(body["score"]), key)


async def submit_score(request: Request) -> Response:
    svc = services(request)
    board = await board_of(request)
    wait = bool_param(request.query_params, "wait")
    sub = replace(parse_submission(await read_json(request, svc.settings.max_body_bytes), "body"), board=board.name)
    [position] = await ingest_of(svc).submit([sub])
    if not wait:
        return json_response({"accepted": True}, 202)
    [result] = await visible_results(svc, board, [(sub.user_id, position)])
    return json_response(result) if result is not None else not_visible()


async def submit_batch(request: Request) -> Response:
    svc = services(request)
    board = await board_of(request)
    wait = bool_param(request.query_params, "wait")
    body = fields(await read_json(request, svc.settings.max_body_bytes), ("scores",))
    items = body["scores"]
    if not isinstance(items, list) or not items:
        raise InvalidInput("scores must be a non-empty array", code="invalid_scores")
    if len(items) > svc.settings.max_batch:
        raise InvalidInput(f"a batch holds at most {svc.settings.max_batch} scores", code="batch_too_large")
    parsed = [replace(parse_submission(item, f"scores[{i}]"), board=board.name) for i, item in enumerate(items)]
    positions = await ingest_of(svc).submit(parsed)
    if not wait:
        return json_response({"accepted": True, "count": len(parsed)}, 202)
    results = await visible_results(svc, board, [(s.user_id, p) for s, p in zip(parsed, positions, strict=True)])
    if any(r is None for r in results):
        return not_visible()
    return json_response({"results": results})


async def visible_results(
    svc: Services, board: Board, submitted: list[tuple[str, LogPosition]]
) -> list[dict[str, Any] | None]:
    """Wait until each submission is visible; then each user's rank and score (None: timed out)."""
    timeout_s = svc.settings.wait_timeout_s
    seen = await asyncio.gather(
        *(svc.visibility.wait(board, user_id, position, timeout_s) for user_id, position in submitted)
    )
    results: list[dict[str, Any] | None] = []
    for (user_id, _), ok in zip(submitted, seen, strict=True):
        if not ok:
            results.append(None)
            continue
        entry = await svc.index.entry(board, user_id)
        results.append(entry.to_json() if entry is not None else {"rank": None, "user_id": user_id, "score": None})
    return results


def not_visible() -> Response:
    # Accepted and durable, but not yet visible within the wait time-out.
    return json_response({"accepted": True, "visible": False}, 202)


async def top(request: Request) -> Response:
    svc = services(request)
    board = await board_of(request)
    limit = int_param(request.query_params, "limit", 10, 1, MAX_TOP_LIMIT)
    offset = int_param(request.query_params, "offset", 0, 0, MAX_OFFSET)
    entries = await svc.index.page(board, offset + 1, limit)
    return json_response(
        {"board": board.name, "users": await svc.index.count(board), "entries": [e.to_json() for e in entries]}
    )


async def get_user(request: Request) -> Response:
    svc = services(request)
    board = await board_of(request)
    user_id = user_of(request)
    entry = await svc.index.entry(board, user_id)
    if entry is None:
        raise UserNotFound(f"user {user_id!r} has no score on board {board.name!r}")
    return json_response(entry.to_json())


async def around(request: Request) -> Response:
    svc = services(request)
    board = await board_of(request)
    user_id = user_of(request)
    radius = int_param(request.query_params, "radius", 5, 0, MAX_RADIUS)
    entry = await svc.index.entry(board, user_id)
    if entry is None:
        raise UserNotFound(f"user {user_id!r} has no score on board {board.name!r}")
    first = max(1, entry.rank - radius)
    entries = await svc.index.page(board, first, entry.rank + radius - first + 1)
    return json_response({"board": board.name, "user_id": user_id, "entries": [e.to_json() for e in entries]})


async def delete_user(request: Request) -> Response:
    svc = services(request)
    board = await board_of(request)
    user_id = user_of(request)
    # Through the log, so the removal is ordered after the user's earlier submissions.
    position = await ingest_of(svc).remove(board.name, user_id)
    await svc.visibility.wait(board, user_id, position, svc.settings.wait_timeout_s)
    return Response(status_code=204)


async def buckets(request: Request) -> Response:
    svc = services(request)
    board = await board_of(request)
    found = await svc.index.buckets(board)
    return json_response({"board": board.name, "buckets": [b.to_json() for b in found]})


MAX_RECONCILE_BOARDS = 1000


async def reconcile(request: Request) -> Response:
    """Check the rank index against the store (the named boards, or all) and, unless a
    dry run, repair what drifted; answers the report (podium/reconcile.py)."""
    svc = services(request)
    body = fields(await read_json(request, svc.settings.max_body_bytes, allow_empty=True), (), ("boards", "dry_run"))
    names = body.get("boards")
    if names is not None and (not isinstance(names, list) or len(names) > MAX_RECONCILE_BOARDS):
        raise InvalidInput(
            f"boards must be an array of at most {MAX_RECONCILE_BOARDS} board names", code="invalid_boards"
        )
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise InvalidInput("dry_run must be true or false", code="invalid_dry_run")
    checked = [check_id(name, "board") for name in names or []]
    for name in checked:
        await svc.boards.get(name)  # an unknown board is a 404 before anything is checked
    assert svc.reconciler is not None, "every process with the api role has a reconciler"
    report = await svc.reconciler.run(checked if names is not None else None, dry_run=dry_run)
    return json_response(report.to_json())


async def healthz(request: Request) -> Response:
    svc = services(request)
    workers = {w.name: {"running": w.running, "restarts": w.restarts} for w in svc.workers}
    return json_response({"status": "ok", "profile": svc.settings.profile, "workers": workers})
