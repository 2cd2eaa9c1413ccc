"""Every route of the API needs exactly the scope issue 9 gives it: the table below is the
contract, the guards in api/app.py the code."""

from __future__ import annotations

from starlette.routing import Route, WebSocketRoute

from podium.api.app import ROUTES
from podium.api.auth import Access
from podium.domain.keys import Scope

READ, READ_KEY, WRITE, ADMIN = (
    Access(Scope.READ, public_reads=True),
    Access(Scope.READ),
    Access(Scope.WRITE),
    Access(Scope.ADMIN),
)
EXPECTED = {
    ("POST", "/v1/boards/{board}/scores"): WRITE,
    ("POST", "/v1/boards/{board}/scores/batch"): WRITE,
    ("GET", "/v1/boards"): READ,
    ("PUT", "/v1/boards/{board}"): ADMIN,
    ("GET", "/v1/boards/{board}"): READ,
    ("PATCH", "/v1/boards/{board}"): ADMIN,
    ("DELETE", "/v1/boards/{board}"): ADMIN,
    ("GET", "/v1/boards/{board}/top"): READ,
    ("GET", "/v1/boards/{board}/range"): READ,
    ("GET", "/v1/boards/{board}/count"): READ,
    ("GET", "/v1/boards/{board}/score-for-rank"): READ,
    ("GET", "/v1/boards/{board}/periods"): READ,
    ("POST", "/v1/boards/{board}/users/lookup"): READ,
    ("GET", "/v1/boards/{board}/users/{user_id}"): READ,
    ("DELETE", "/v1/boards/{board}/users/{user_id}"): WRITE,
    ("GET", "/v1/boards/{board}/users/{user_id}/around"): READ,
    ("GET", "/v1/boards/{board}/users/{user_id}/history"): READ,
    ("GET", "/v1/boards/{board}/users/{user_id}/friends"): READ_KEY,
    ("GET", "/v1/boards/{board}/events"): READ,
    ("WS", "/v1/boards/{board}/live"): READ,
    ("PUT", "/v1/users/{user_id}/friends"): WRITE,
    ("GET", "/v1/users/{user_id}/friends"): READ_KEY,
    ("POST", "/v1/users/{user_id}/friends/{friend_id}"): WRITE,
    ("DELETE", "/v1/users/{user_id}/friends/{friend_id}"): WRITE,
    ("POST", "/v1/boards/{board}/users/{user_id}/hide"): ADMIN,
    ("DELETE", "/v1/boards/{board}/users/{user_id}/hide"): ADMIN,
    ("DELETE", "/v1/users/{user_id}"): WRITE,
    ("GET", "/v1/users/{user_id}/export"): WRITE,
    # Tournaments (issue 22): the game server joins its players, as it submits their scores.
    ("POST", "/v1/boards/{board}/players/{user_id}"): WRITE,
    ("DELETE", "/v1/boards/{board}/players/{user_id}"): WRITE,
    ("GET", "/v1/tournaments"): READ,
    # Results delivered (issue 22): the webhooks are the operator's; a period's results are read like a board.
    ("GET", "/v1/boards/{board}/results"): READ,
    ("GET", "/v1/webhooks"): ADMIN,
    ("PUT", "/v1/webhooks/{name}"): ADMIN,
    ("GET", "/v1/webhooks/{name}"): ADMIN,
    ("DELETE", "/v1/webhooks/{name}"): ADMIN,
    ("GET", "/v1/admin/boards/{board}/buckets"): ADMIN,
    ("POST", "/v1/admin/reconcile"): ADMIN,
    ("POST", "/v1/admin/rebuild"): ADMIN,
    ("POST", "/v1/admin/replay"): ADMIN,
    ("GET", "/v1/admin/jobs/{job_id}"): ADMIN,
}
PUBLIC = {"/healthz", "/openapi.json", "/metrics"}


def route_access() -> dict[tuple[str, str], Access | None]:
    found: dict[tuple[str, str], Access | None] = {}
    for route in ROUTES:
        access = getattr(getattr(route, "endpoint", None), "access", None)
        if isinstance(route, WebSocketRoute):
            found["WS", route.path] = access
        elif isinstance(route, Route):
            for method in (route.methods or set()) - {"HEAD"}:
                found[method, route.path] = access
    return found


def test_every_route_needs_its_scope_and_only_the_page_and_probes_are_public() -> None:
    found = route_access()
    guarded = {k: v for k, v in found.items() if v is not None}
    assert guarded == EXPECTED
    public = {path for (_, path), access in found.items() if access is None}
    assert public >= PUBLIC
    assert all(p in PUBLIC or not p.startswith("/v1/") for p in public), public - PUBLIC
