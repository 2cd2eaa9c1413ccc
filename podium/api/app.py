"""The ASGI application: routes, error handlers and the lifespan that opens the pipeline."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Collection
from typing import Any

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route, WebSocketRoute
from starlette.types import ASGIApp

from podium.api import admin as admin_jobs
from podium.api import boards, friends, history, live, reads, routes, scores, tournaments, users, web, webhooks
from podium.api.auth import Authenticate, admin, read, read_with_key, write
from podium.api.context import contract_of
from podium.api.contract.build import Contract
from podium.api.errors import HANDLERS
from podium.api.openapi import document
from podium.api.openapi_auth import secure
from podium.api.rate_limits import RateLimits
from podium.api.regions import home_only
from podium.api.responses import json_response
from podium.api.submit_path import SubmissionsFirst
from podium.bootstrap import ROLES, open_api
from podium.plumbing.metrics import metrics_endpoint
from podium.settings import Settings


async def openapi(request: Request) -> Response:
    return json_response(secure(document(contract_of(request)), ROUTES))


# Each route's handler is wrapped in what it needs (api/auth.py): `read` (a key of any
# scope, or none on a public board), `write`, `admin`; the rest is public. `home_only`: changes of
# boards and of the rank index, which an api reading from its region's replicas refuses (api/regions.py).
SUBMIT_SCORE = write(scores.submit_score)
ROUTES = [
    # Submissions first: the router tries routes in order, and these are most requests
    # (single submissions take the lean path before the router: PodiumApp below).
    Route("/v1/boards/{board}/scores", SUBMIT_SCORE, methods=["POST"]),
    Route("/v1/boards/{board}/scores/batch", write(scores.submit_batch), methods=["POST"]),
    Route("/v1/boards", read(boards.list_boards), methods=["GET"]),
    Route("/v1/boards/{board}", admin(home_only(boards.put_board)), methods=["PUT"]),
    Route("/v1/boards/{board}", read(boards.get_board), methods=["GET"]),
    Route("/v1/boards/{board}", admin(home_only(boards.patch_board)), methods=["PATCH"]),
    Route("/v1/boards/{board}", admin(home_only(boards.delete_board)), methods=["DELETE"]),
    Route("/v1/boards/{board}/top", read(reads.top), methods=["GET"]),
    Route("/v1/boards/{board}/range", read(reads.score_range), methods=["GET"]),
    Route("/v1/boards/{board}/count", read(reads.score_count), methods=["GET"]),
    Route("/v1/boards/{board}/score-for-rank", read(reads.score_for_rank), methods=["GET"]),
    Route("/v1/boards/{board}/periods", read(reads.periods), methods=["GET"]),
    Route("/v1/boards/{board}/users/lookup", read(reads.lookup), methods=["POST"]),
    Route("/v1/boards/{board}/users/{user_id}", read(reads.get_user), methods=["GET"]),
    Route("/v1/boards/{board}/users/{user_id}", write(routes.delete_user), methods=["DELETE"]),
    Route("/v1/boards/{board}/users/{user_id}/around", read(reads.around), methods=["GET"]),
    Route("/v1/boards/{board}/users/{user_id}/history", read(history.history), methods=["GET"]),
    Route("/v1/boards/{board}/users/{user_id}/friends", read_with_key(friends.friends_board), methods=["GET"]),
    Route("/v1/boards/{board}/events", read(live.events), methods=["GET"]),
    WebSocketRoute("/v1/boards/{board}/live", read(live.live)),
    Route("/v1/users/{user_id}/friends", write(friends.put_friends), methods=["PUT"]),
    Route("/v1/users/{user_id}/friends", read_with_key(friends.get_friends), methods=["GET"]),
    Route("/v1/users/{user_id}/friends/{friend_id}", write(friends.add_friend), methods=["POST"]),
    Route("/v1/users/{user_id}/friends/{friend_id}", write(friends.remove_friend), methods=["DELETE"]),
    Route("/v1/boards/{board}/users/{user_id}/hide", admin(users.hide), methods=["POST"]),
    Route("/v1/boards/{board}/users/{user_id}/hide", admin(users.unhide), methods=["DELETE"]),
    Route("/v1/users/{user_id}", write(users.forget), methods=["DELETE"]),
    Route("/v1/users/{user_id}/export", write(users.export), methods=["GET"]),
    Route("/v1/boards/{board}/players/{user_id}", write(tournaments.join), methods=["POST"]),
    Route("/v1/boards/{board}/players/{user_id}", write(tournaments.leave), methods=["DELETE"]),
    Route("/v1/tournaments", read(tournaments.list_tournaments), methods=["GET"]),
    # Results delivered (issue 22): webhooks are an operator's; a finished period's results anyone's who reads.
    Route("/v1/boards/{board}/results", read(webhooks.results), methods=["GET"]),
    Route("/v1/webhooks", admin(webhooks.list_webhooks), methods=["GET"]),
    Route("/v1/webhooks/{name}", admin(home_only(webhooks.put_webhook)), methods=["PUT"]),
    Route("/v1/webhooks/{name}", admin(webhooks.get_webhook), methods=["GET"]),
    Route("/v1/webhooks/{name}", admin(home_only(webhooks.delete_webhook)), methods=["DELETE"]),
    Route("/v1/admin/boards/{board}/buckets", admin(routes.buckets), methods=["GET"]),
    Route("/v1/admin/reconcile", admin(home_only(routes.reconcile)), methods=["POST"]),
    Route("/v1/admin/rebuild", admin(home_only(admin_jobs.start_rebuild)), methods=["POST"]),
    Route("/v1/admin/replay", admin(home_only(admin_jobs.start_replay)), methods=["POST"]),
    Route("/v1/admin/jobs/{job_id}", admin(admin_jobs.get_job), methods=["GET"]),
    Route("/healthz", routes.healthz, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
    Route("/metrics", metrics_endpoint, methods=["GET"]),
    *web.ROUTES,
]


class PodiumApp(Starlette):
    """Starlette, with single submissions answered before its middleware stack and router
    (api/submit_path.py): the same steps, the same answers, a fifth less CPU."""

    def __init__(self, settings: Settings, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.settings = settings

    def build_middleware_stack(self) -> ASGIApp:
        # The app's own middleware list (create_app's): the lean path refuses to be built
        # if one was added there that it does not run, so none is ever skipped.
        middleware: list[object] = [m.cls for m in self.user_middleware]
        limits = RateLimits(self.router, self.settings)  # as create_app's, at the app's settings
        return SubmissionsFirst(super().build_middleware_stack(), SUBMIT_SCORE, middleware, limits)


def create_app(settings: Settings, roles: Collection[str] = ROLES) -> PodiumApp:
    """The API; with the default roles its process also runs the workers (`podium serve`)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with open_api(settings, roles) as services:
            app.state.services = services
            yield

    # Authenticate outermost: whatever runs inside it (limits, handlers) knows the caller.
    middleware = [Middleware(Authenticate), Middleware(RateLimits, settings=settings)]
    app = PodiumApp(settings, routes=ROUTES, exception_handlers=HANDLERS, lifespan=lifespan, middleware=middleware)
    app.state.contract = Contract(settings)  # the types requests are decoded with, at these settings' limits
    return app
