"""Webhooks and results over HTTP (issue 22, results delivered): an operator sets where
Podium POSTs the end of each period (PUT/GET/DELETE /v1/webhooks/{name}), and anyone with a
read key reads a finished period's full results (GET /v1/boards/{board}/results). Sending is
the use case's (podium/usecases/deliveries.py)."""

from __future__ import annotations

import msgspec
from starlette.requests import Request
from starlette.responses import Response

import podium.domain.windows as w
from podium.api.context import board_of, contract_of, services
from podium.api.contract import webhooks as typed
from podium.api.contract.decoding import decode
from podium.api.reads import shown
from podium.api.requests import check_id, int_query, parse_json, read_body
from podium.api.responses import answer
from podium.domain import tournament_periods as tp
from podium.domain.boards import Board
from podium.domain.webhooks import Webhook, check_webhook
from podium.errors import Conflict
from podium.services import ApiServices
from podium.usecases.period_boards import default_window, now_us, period_board_at, window_of
from podium.usecases.results import final_standings
from podium.webhooks.base import Delivery


class PeriodNotEnded(Conflict):
    code = "period_not_ended"


def name_of(request: Request) -> str:
    return check_id(request.path_params["name"], "name")


async def put_webhook(request: Request) -> Response:
    svc = services(request)
    name = name_of(request)
    raw = await read_body(request, svc.settings.max_body_bytes)
    allow = svc.settings.webhook_allow_list
    declared = decode(contract_of(request).decode_webhook, raw, lambda: check_webhook(name, parse_json(raw), allow, 0))
    hook, created = await svc.deliveries.put(name, msgspec.to_builtins(declared))
    return answer(webhook_shown(hook, []), 201 if created else 200)


async def get_webhook(request: Request) -> Response:
    svc = services(request)
    hook = await svc.deliveries.get(name_of(request))
    recent = await svc.deliveries.recent(hook.name, typed.MAX_DELIVERIES_SHOWN)
    return answer(webhook_shown(hook, recent))


async def list_webhooks(request: Request) -> Response:
    svc = services(request)
    return answer(typed.WebhookList([webhook_shown(h, []) for h in await svc.deliveries.all()]))


async def delete_webhook(request: Request) -> Response:
    await services(request).deliveries.delete(name_of(request))
    return Response(status_code=204)


def webhook_shown(hook: Webhook, recent: list[Delivery]) -> typed.Webhook:
    deliveries = [
        typed.DeliveryShown(
            id=d.id,
            event=d.event,  # type: ignore[arg-type]
            subject=d.subject,
            state=d.state,  # type: ignore[arg-type]
            attempts=d.attempts,
            created_at_us=d.created_at_us,
            next_at_us=d.next_at_us,
            delivered_at_us=d.delivered_at_us,
            last_error=d.last_error,
        )
        for d in recent
    ]
    return typed.Webhook(
        name=hook.name,
        url=hook.url,
        events=list(hook.events),  # type: ignore[arg-type]
        created_at_us=hook.created_at_us,
        deliveries=deliveries,
    )


async def results(request: Request) -> Response:
    """A finished period's standings, from the store: `window=` (default: the board's first
    window with periods), `period=` (default: the last one finished), offset, limit."""
    svc = services(request)
    board = await board_of(request)
    params = request.query_params
    spec = params.get("window") or results_window(board)
    window = window_of(board, spec)
    at = now_us()
    period, stored = finished_period(svc, board, spec, window, params.get("period"), at)
    assert period.end_us is not None
    offset = int_query(params, typed.ResultsQuery, "offset")
    limit = int_query(params, typed.ResultsQuery, "limit")
    found = await final_standings(svc.store, board, stored, spec, period, offset + 1, limit)
    return answer(
        typed.PeriodResults(
            board=board.name,
            window=spec,
            period=period.id,
            start_us=period.start_us,
            end_us=period.end_us,
            final=await svc.deliveries.final(period.end_us),
            count=found.count,
            entries=shown(found.entries),
        )
    )


def results_window(board: Board) -> str:
    """The window a results read without `window=` is about: the first that has periods."""
    return next((s for s in board.windows if w.parse_window(s).kind is not w.WindowKind.ALL), default_window(board))


def finished_period(
    svc: ApiServices, board: Board, spec: str, window: w.Window, period_id: str | None, at_us: int
) -> tuple[w.Period, Board]:
    """The period asked for (None: the last one finished) and the board its totals are in;
    409 period_not_ended for one still running."""
    if window.kind is w.WindowKind.ALL:
        # The all-time window never ends, but a one-shot tournament ranked in it does.
        found = tp.period_by_id(board.tournament, board.timezone, tp.ONCE) if board.tournament is not None else None
        if found is None or period_id not in (None, tp.ONCE) or tp.reset_window(board.tournament) is not None:  # type: ignore[arg-type]
            raise w.WindowError("the all-time window never ends: name a window with periods", code="invalid_period")
        if found.end_us > at_us:
            raise PeriodNotEnded(f"the tournament of board {board.name!r} has not ended")
        return w.Period(found.id, found.start_us, found.end_us), board
    if period_id is None:
        last = w.previous_periods(window, board.timezone, at_us, 1)
        if not last:
            raise w.WindowError("no period of this window has ended", code="invalid_period")
        period_id = last[0].id
    stored = period_board_at(board, spec, period_id, at_us)  # 400 / 404 period_not_kept
    period = w.parse_period(window, board.timezone, period_id)
    if period.end_us is None or period.end_us > at_us:
        raise PeriodNotEnded(f"period {period_id!r} of window {spec!r} has not ended")
    return period, stored
