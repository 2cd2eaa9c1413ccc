"""A user's rank history on a board (podium/usecases/rank_history.py): points of when its
total changed, the total and its rank right after, and each finished period's final rank."""

from __future__ import annotations

from collections.abc import Mapping

from starlette.requests import Request
from starlette.responses import Response

from podium.api.context import board_of, services, user_of
from podium.api.contract.history import MAX_AT_US, HistoryQuery
from podium.api.requests import int_param, int_query
from podium.api.responses import json_response
from podium.errors import InvalidInput
from podium.usecases.period_boards import default_window, now_us, window_of


async def history(request: Request) -> Response:
    svc = services(request)
    board = await board_of(request)  # 404 for an unknown board
    user_id = user_of(request)
    params = request.query_params
    spec = params.get("window") or default_window(board)
    window_of(board, spec)  # a window the board keeps, else 400 unknown_window
    from_us, to_us = bound(params, "from"), bound(params, "to")
    if from_us is not None and to_us is not None and from_us > to_us:
        raise InvalidInput("query parameter from must not be after to", code="invalid_parameter")
    limit = int_query(params, HistoryQuery, "limit")
    points = await svc.history.read(board, spec, user_id, from_us=from_us, to_us=to_us, limit=limit, now_us=now_us())
    body = {"board": board.name, "user_id": user_id, "window": spec, "points": [p.to_json() for p in points]}
    return json_response(body)


def bound(params: Mapping[str, str], name: str) -> int | None:
    """An optional instant of the query, within the bounds HistoryQuery declares."""
    if name not in params:
        return None
    return int_param(params, name, 0, 0, MAX_AT_US)
