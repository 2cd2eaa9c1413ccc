"""The ASGI application: routes, error handlers and the lifespan that opens the pipeline."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute

from podium.api import admin, friends, live, routes, users, web
from podium.api.errors import HANDLERS
from podium.api.openapi import document
from podium.api.responses import json_response
from podium.bootstrap import ROLES, open_services
from podium.metrics import metrics_endpoint
from podium.settings import Settings


async def openapi(request: Request) -> Response:
    return json_response(document())


ROUTES = [
    Route("/v1/boards", routes.list_boards, methods=["GET"]),
    Route("/v1/boards/{board}", routes.put_board, methods=["PUT"]),
    Route("/v1/boards/{board}", routes.get_board, methods=["GET"]),
    Route("/v1/boards/{board}/scores", routes.submit_score, methods=["POST"]),
    Route("/v1/boards/{board}/scores/batch", routes.submit_batch, methods=["POST"]),
    Route("/v1/boards/{board}/top", routes.top, methods=["GET"]),
    Route("/v1/boards/{board}/users/{user_id}", routes.get_user, methods=["GET"]),
    Route("/v1/boards/{board}/users/{user_id}", routes.delete_user, methods=["DELETE"]),
    Route("/v1/boards/{board}/users/{user_id}/around", routes.around, methods=["GET"]),
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

    return Starlette(routes=ROUTES, exception_handlers=HANDLERS, lifespan=lifespan)
