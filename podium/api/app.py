"""The ASGI application: routes, error handlers and the lifespan that opens the pipeline."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from podium.api import admin, boards, friends, live, reads, routes, scores, users, web
from podium.api.errors import HANDLERS
from podium.api.openapi import document
from podium.api.rate_limits import RateLimits
from podium.api.responses import json_response
from podium.bootstrap import ROLES, open_services
from podium.metrics import metrics_endpoint
from podium.settings import Settings


async def openapi(request: Request) -> Response:
    return json_response(document())


ROUTES = [
    # Submissions first: the router tries routes in order, and these are most requests.
    Route("/v1/boards/{board}/scores", scores.submit_score, methods=["POST"]),
    Route("/v1/boards/{board}/scores/batch", scores.submit_batch, methods=["POST"]),
    Route("/v1/boards", boards.list_boards, methods=["GET"]),
    Route("/v1/boards/{board}", boards.put_board, methods=["PUT"]),
    Route("/v1/boards/{board}", boards.get_board, methods=["GET"]),
    Route("/v1/boards/{board}", boards.patch_board, methods=["PATCH"]),
    Route("/v1/boards/{board}", boards.delete_board, methods=["DELETE"]),
    Route("/v1/boards/{board}/top", reads.top, methods=["GET"]),
    Route("/v1/boards/{board}/range", reads.score_range, methods=["GET"]),
    Route("/v1/boards/{board}/count", reads.score_count, methods=["GET"]),
    Route("/v1/boards/{board}/score-for-rank", reads.score_for_rank, methods=["GET"]),
    Route("/v1/boards/{board}/periods", reads.periods, methods=["GET"]),
    Route("/v1/boards/{board}/users/lookup", reads.lookup, methods=["POST"]),
    Route("/v1/boards/{board}/users/{user_id}", reads.get_user, methods=["GET"]),
    Route("/v1/boards/{board}/users/{user_id}", routes.delete_user, methods=["DELETE"]),
    Route("/v1/boards/{board}/users/{user_id}/around", reads.around, methods=["GET"]),
    Route("/v1/boards/{board}/users/{user_id}/friends", friends.friends_board, methods=["GET"]),
    Route("/v1/boards/{board}/events", live.events, methods=["GET"]),
    WebSocketRoute("/v1/boards/{board}/live", live.live),
    Route("/v1/users/{user_id}/friends", friends.put_friends, methods=["PUT"]),
    Route("/v1/users/{user_id}/friends", friends.get_friends, methods=["GET"]),
    Route("/v1/users/{user_id}/friends/{friend_id}", friends.add_friend, methods=["POST"]),
    Route("/v1/users/{user_id}/friends/{friend_id}", friends.remove_friend, methods=["DELETE"]),
    Route("/v1/boards/{board}/users/{user_id}/hide", users.hide, methods=["POST"]),
    Route("/v1/boards/{board}/users/{user_id}/hide", users.unhide, methods=["DELETE"]),
    Route("/v1/users/{user_id}", users.forget, methods=["DELETE"]),
    Route("/v1/users/{user_id}/export", users.export, methods=["GET"]),
    Route("/v1/admin/boards/{board}/buckets", routes.buckets, methods=["GET"]),
    Route("/v1/admin/reconcile", routes.reconcile, methods=["POST"]),
    Route("/v1/admin/rebuild", admin.start_rebuild, methods=["POST"]),
    Route("/v1/admin/replay", admin.start_replay, methods=["POST"]),
    Route("/v1/admin/jobs/{job_id}", admin.get_job, methods=["GET"]),
    Route("/healthz", routes.healthz, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
    Route("/metrics", metrics_endpoint, methods=["GET"]),
    *web.ROUTES,
]


def create_app(settings: Settings, roles: Collection[str] = ROLES) -> Starlette:
    """The API; with the default roles its process also runs the workers (`podium serve`)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_services(settings, roles) as services:
            app.state.services = services
            yield

    middleware = [Middleware(RateLimits, settings=settings)]
    return Starlette(routes=ROUTES, exception_handlers=HANDLERS, lifespan=lifespan, middleware=middleware)
