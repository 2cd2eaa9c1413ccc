"""Which requests take single submissions' lean path (api/submit_path.py): exactly those
the route `POST /v1/boards/{board}/scores` would match; anything else goes to Starlette."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.routing import Match, Route

from podium.api.submit_path import submitted_board

ROUTE = Route("/v1/boards/{board}/scores", lambda request: None, methods=["POST"])


def scope(path: str, method: str = "POST", kind: str = "http", root_path: str = "") -> dict[str, Any]:
    return {"type": kind, "method": method, "path": path, "root_path": root_path}


@pytest.mark.parametrize(
    "path",
    [
        "/v1/boards/arena/scores",
        "/v1/boards/a.b:c-d_e/scores",
        "/v1/boards/scores/scores",
        "/v1/boards//scores",
        "/v1/boards/a/b/scores",
        "/v1/boards/arena/scores/",
        "/v1/boards/arena/scores/batch",
        "/v1/boards/arena",
        "/v1/boards/scores",
        "/v2/boards/arena/scores",
    ],
)
def test_the_lean_path_takes_what_the_route_matches(path: str) -> None:
    match, child = ROUTE.matches(scope(path))
    expected = child["path_params"]["board"] if match is Match.FULL else None
    assert submitted_board(scope(path)) == expected


def test_other_methods_kinds_and_mounted_apps_go_to_starlette() -> None:
    assert submitted_board(scope("/v1/boards/arena/scores")) == "arena"
    assert submitted_board(scope("/v1/boards/arena/scores", method="GET")) is None  # Starlette answers 405
    assert submitted_board(scope("/v1/boards/arena/scores", kind="websocket")) is None
    assert submitted_board(scope("/v1/boards/arena/scores", root_path="/podium")) is None


def test_the_lean_path_refuses_middleware_it_does_not_run() -> None:
    """It runs Authenticate's and RateLimits' steps itself: an app with other middleware
    would have them skipped on its hottest route, so it is not built."""
    from starlette.middleware import Middleware
    from starlette.middleware.gzip import GZipMiddleware

    from podium.api.app import create_app
    from podium.settings import Settings

    app = create_app(Settings())
    app.build_middleware_stack()  # the app's own list: built
    app.user_middleware.append(Middleware(GZipMiddleware))
    with pytest.raises(TypeError, match="extend it"):
        app.build_middleware_stack()
