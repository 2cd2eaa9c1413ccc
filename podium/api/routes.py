"""The rest of the v1 HTTP contract: removing a user from a board, the operators'
endpoints (buckets, reconcile) and health. Boards, submissions and reads have their own
modules (api/boards.py, api/scores.py, api/reads.py)."""

from __future__ import annotations

from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from podium.api.context import board_of, contract_of, services, user_of
from podium.api.contract.decoding import decode
from podium.api.contract.upkeep import MAX_RECONCILE_BOARDS, Buckets, Health, ReconcileReport, WorkerHealth
from podium.api.requests import check_id, fields, parse_json, read_body
from podium.api.responses import answer
from podium.errors import InvalidInput
from podium.usecases.period_boards import now_us, period_boards_of
from podium.usecases.user_regions import check_entered


async def delete_user(request: Request) -> Response:
    svc = services(request)
    board = await board_of(request)
    user_id = user_of(request)
    stored = [(b.name, user_id) for b in period_boards_of(board, now_us())]
    await check_entered(svc.store, stored, svc.settings.region)  # one region per user (podium/usecases/user_regions.py)
    # Through the log, so the removal is ordered after the user's earlier submissions.
    position = await svc.ingest.remove(board.name, user_id)
    await svc.visibility.wait(board, user_id, position, svc.settings.wait_timeout_s)
    return Response(status_code=204)


async def buckets(request: Request) -> Response:
    svc = services(request)
    board = await board_of(request)
    found = await svc.index.buckets(board)
    return answer(msgspec.convert({"board": board.name, "buckets": [b.to_json() for b in found]}, Buckets))


async def reconcile(request: Request) -> Response:
    """Check the rank index against the store (the named boards, or all) and, unless a
    dry run, repair what drifted; answers the report (podium/usecases/reconcile.py)."""
    svc = services(request)
    raw = await read_body(request, svc.settings.max_body_bytes)
    declared = decode(
        contract_of(request).decode_reconcile,
        raw or b"{}",
        lambda: reconcile_request(parse_json(raw, allow_empty=True)),
    )
    names, dry_run = reconcile_request(msgspec.to_builtins(declared))
    for name in names or []:
        await svc.boards.get(name)  # an unknown board is a 404 before anything is checked
    report = await svc.reconciler.run(names, dry_run=dry_run)
    return answer(msgspec.convert(report.to_json(), ReconcileReport))


def reconcile_request(body: Any) -> tuple[list[str] | None, bool]:
    """The boards to reconcile (None: all) and whether it is a dry run, from the body as
    parsed JSON, checked field by field."""
    body = fields(body, (), ("boards", "dry_run"))
    names = body.get("boards")
    if names is not None and (not isinstance(names, list) or len(names) > MAX_RECONCILE_BOARDS):
        raise InvalidInput(
            f"boards must be an array of at most {MAX_RECONCILE_BOARDS} board names", code="invalid_boards"
        )
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise InvalidInput("dry_run must be true or false", code="invalid_dry_run")
    checked = [check_id(name, "board") for name in names] if names is not None else None
    return checked, dry_run


async def healthz(request: Request) -> Response:
    svc = services(request)
    workers = {w.name: WorkerHealth(w.running, w.restarts) for w in svc.workers}
    return answer(Health("ok", svc.settings.profile, workers))
