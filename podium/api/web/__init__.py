"""The web page: the board picker at `/`, a live board at `/boards/{board}`, and their
scripts and styles under `/web/`, all served as they are — no build step. The page's files
(plain HTML, JavaScript and CSS) sit beside this module: the page is a client of the HTTP
API, served by it."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from podium.api.requests import check_id

WEB_DIR = Path(__file__).resolve().parent
# The page is small and changes with each release: let the browser revalidate it.
NO_STALE = {"cache-control": "no-cache"}


async def picker(request: Request) -> Response:
    return FileResponse(WEB_DIR / "index.html", headers=NO_STALE)


async def board_page(request: Request) -> Response:
    check_id(request.path_params["board"], "board")  # the page itself tells an unknown board
    return FileResponse(WEB_DIR / "board.html", headers=NO_STALE)


ROUTES = [
    Route("/", picker, methods=["GET"]),
    Route("/boards/{board}", board_page, methods=["GET"]),
    Mount("/web", StaticFiles(directory=WEB_DIR), name="web"),
]
