"""The middleware records who calls (the key's id and scope, never its secret) and refuses
nothing itself."""

from __future__ import annotations

from types import SimpleNamespace

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from podium.api.auth import Authenticate
from podium.domain.keys import Scope
from podium.usecases.api_keys import Keys
from tests.unit.test_keys import CountingStore


async def caller(request: Request) -> JSONResponse:
    state = request.state
    return JSONResponse({"id": state.key_id, "scope": state.key_scope, "refusal": state.key_refusal})


def app_with(keys: Keys | None) -> Starlette:
    app = Starlette(routes=[Route("/who", caller)], middleware=[Middleware(Authenticate)])
    app.state.services = SimpleNamespace(keys=keys)
    return app


def test_the_caller_is_the_keys_id_and_scope() -> None:
    keys = Keys(CountingStore(), cache_s=5.0)
    with TestClient(app_with(keys)) as client:
        record, key = client.portal.call(keys.create, Scope.WRITE)
        who = client.get("/who", headers={"authorization": f"bearer {key}"}).json()
        assert who == {"id": record.key_id, "scope": "write", "refusal": None}
        assert client.get("/who").json() == {"id": None, "scope": None, "refusal": None}
        forged = client.get("/who", headers={"authorization": f"Bearer {key}x"}).json()
        assert forged == {"id": None, "scope": None, "refusal": "unknown"}


def test_with_auth_off_nobody_is_known_and_nothing_refused() -> None:
    with TestClient(app_with(None)) as client:
        sent = client.get("/who", headers={"authorization": "Bearer pk_whatever"}).json()
        assert sent == {"id": None, "scope": None, "refusal": None}
