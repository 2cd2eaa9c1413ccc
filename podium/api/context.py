"""What every handler needs from a request: the services, and the board and user named
in its path, checked."""

from __future__ import annotations

from starlette.requests import HTTPConnection, Request

from podium.api.contract.build import Contract
from podium.api.requests import check_id
from podium.domain.boards import Board
from podium.services import ApiServices
from podium.usecases import period_boards
from podium.usecases.period_boards import default_window, period_board_at


def services(request: HTTPConnection) -> ApiServices:
    svc: ApiServices = request.app.state.services
    return svc


def contract_of(request: HTTPConnection) -> Contract:
    """The app's declared types, at its settings' limits (api/contract/)."""
    contract: Contract = request.app.state.contract
    return contract


async def board_of(request: Request) -> Board:
    """The board the path names (as created: every window)."""
    return await board_named(services(request), request.path_params["board"])


async def board_named(svc: ApiServices, name: str) -> Board:
    """The board `name` names, checked as a path's board is. A cached board is known and so
    valid: the check of its name (a regular expression, a few per cent of the api's loop
    under single submissions) is made only for a name not cached."""
    return svc.boards.cached(name) or await svc.boards.get(check_id(name, "board"))


async def read_board(request: Request) -> Board:
    """The board a read is about: the path's board, in the window and period the query names
    (`window=`, default all-time; `period=`, default the current one)."""
    board = await board_of(request)
    spec = request.query_params.get("window")
    period = request.query_params.get("period")
    if spec is None and period is None and "all" in board.windows:
        return board
    return period_board_at(board, spec or default_window(board), period, period_boards.now_us())


def user_of(request: Request) -> str:
    return check_id(request.path_params["user_id"], "user_id")
