"""Tournaments over HTTP: a board's `tournament` setting checked, its state shown with the
board, a player joining or leaving the active period, and the list of tournaments. The
rules and the counts are the use case's (podium/usecases/tournaments.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from podium.api.auth import anonymous
from podium.api.context import board_of, services, user_of
from podium.api.requests import bool_param
from podium.api.responses import json_response
from podium.domain.boards import Board
from podium.domain.tournament_periods import check_reset
from podium.domain.tournaments import Tournament, check_tournament
from podium.domain.windows import WindowError
from podium.errors import InvalidInput
from podium.services import ApiServices
from podium.tournaments.base import Joined


def check_setting(value: Any) -> Tournament | None:
    """The board setting `tournament` as parsed JSON (absent or null: none)."""
    if value is None:
        return None
    checked = check_tournament(value)
    if isinstance(checked, str):
        raise InvalidInput(checked, code="invalid_tournament")
    return checked


def checked_board(board: Board) -> Board:
    """`board` if its windows and time zone can carry its tournament; else a 400 saying why."""
    if board.tournament is None:
        return board
    try:
        why = check_reset(board.tournament, board.windows)
    except WindowError as exc:
        why = f"tournament.reset is not a cron expression: {exc.message}"
    if why is not None:
        raise InvalidInput(why, code="invalid_tournament")
    return board


def with_setting(board: Board, value: Any) -> Board:
    return checked_board(replace(board, tournament=check_setting(value)))


async def shown(svc: ApiServices, board: Board) -> dict[str, Any]:
    """The board's `tournament` as a board's answer shows it (empty: not a tournament)."""
    if board.tournament is None:
        return {}
    return {"tournament": {**board.tournament.to_json(), **await svc.tournaments.state(board)}}


async def join(request: Request) -> Response:
    svc = services(request)
    board = await board_of(request)
    user_id = user_of(request)
    joined = await svc.tournaments.join(board, user_id)
    state = await svc.tournaments.state(board)
    body = {
        "board": board.name,
        "user_id": user_id,
        "period": state["period"],
        "joined": joined is Joined.JOINED,
        "players": state["players"],
    }
    return json_response(body, 201 if joined is Joined.JOINED else 200)


async def leave(request: Request) -> Response:
    svc = services(request)
    board = await board_of(request)
    await svc.tournaments.leave(board, user_of(request))  # leaving twice is leaving
    return Response(status_code=204)


async def list_tournaments(request: Request) -> Response:
    svc = services(request)
    active = bool_param(request.query_params, "active") if "active" in request.query_params else None
    listed = await svc.tournaments.listed(active)
    if anonymous(request):  # without a key, only the public boards' (as the board list)
        public = set(await svc.boards.public_names())
        listed = [t for t in listed if t["board"] in public]
    return json_response({"tournaments": listed})
