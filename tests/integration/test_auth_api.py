"""API keys on the HTTP API, in the embedded profile with auth on: every scope boundary,
public and key-only boards, revocation, the refusals' metric, and no secret in the logs."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client import REGISTRY
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from podium.api.app import create_app
from podium.bootstrap import managed_keys
from podium.cli import main
from podium.domain.keys import Scope
from podium.services import ApiServices
from podium.settings import Settings
from tests.unit.test_route_scopes import EXPECTED

CACHE_S = 0.5
LOWER = {Scope.WRITE: Scope.READ, Scope.ADMIN: Scope.WRITE}


async def make_keys(settings: Settings) -> dict[Scope, tuple[str, str]]:
    """(id, key) of a key of each scope."""
    async with managed_keys(settings) as keys:
        made = {scope: await keys.create(scope, f"test-{scope}") for scope in Scope}
    return {scope: (record.key_id, key) for scope, (record, key) in made.items()}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data=tmp_path / "data", wait_timeout_s=5.0, key_cache_s=CACHE_S)


@pytest.fixture
def keys(settings: Settings) -> dict[Scope, tuple[str, str]]:
    return asyncio.run(make_keys(settings))


@pytest.fixture
def client(settings: Settings, keys: dict[Scope, tuple[str, str]]) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        admin = bearer(keys[Scope.ADMIN][1])
        assert test_client.put("/v1/boards/secret", json={}, headers=admin).status_code == 201
        assert test_client.put("/v1/boards/open", json={"reads": "public"}, headers=admin).status_code == 201
        yield test_client


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def concrete(path: str) -> str:
    return path.format(board="secret", user_id="ada", friend_id="bob", job_id="nope", name="hook")


def refusals(reason: str) -> float:
    return REGISTRY.get_sample_value("podium_auth_refusals_total", {"reason": reason}) or 0.0


HTTP_ROUTES = sorted(k for k in EXPECTED if k[0] != "WS")


@pytest.mark.parametrize(("method", "path"), HTTP_ROUTES)
def test_every_route_refuses_no_key_and_a_key_of_a_lower_scope(
    client: TestClient, keys: dict[Scope, tuple[str, str]], method: str, path: str
) -> None:
    access = EXPECTED[method, path]
    url = concrete(path)
    missing = refusals("missing")
    anonymous = client.request(method, url, json={})
    if path in ("/v1/boards", "/v1/tournaments"):  # list the public boards instead
        assert anonymous.status_code == 200
    else:
        assert anonymous.status_code == 401, anonymous.text
        assert anonymous.headers["www-authenticate"] == "Bearer"
        assert anonymous.json()["error"]["code"] == "unauthorized"
        assert refusals("missing") == missing + 1
    if access.scope in LOWER:
        too_low = client.request(method, url, json={}, headers=bearer(keys[LOWER[access.scope]][1]))
        assert too_low.status_code == 403, too_low.text
        assert too_low.json()["error"] == {"code": "forbidden", "message": too_low.json()["error"]["message"]}
    if not path.endswith("/events"):  # an allowed event stream never ends (its own test reads it)
        enough = client.request(method, url, json={}, headers=bearer(keys[access.scope][1]))
        assert enough.status_code not in (401, 403), enough.text


def test_a_read_key_reads_but_cannot_write_and_a_write_key_cannot_administer(
    client: TestClient, keys: dict[Scope, tuple[str, str]]
) -> None:
    read, write, admin = (bearer(keys[s][1]) for s in Scope)
    score = {"user_id": "ada", "score": 5}
    assert client.post("/v1/boards/secret/scores", json=score, headers=read).status_code == 403
    assert client.post("/v1/boards/secret/scores?wait=true", json=score, headers=write).status_code == 200
    assert client.get("/v1/boards/secret/users/ada", headers=read).json()["score"] == 5
    assert client.patch("/v1/boards/secret", json={"reads": "public"}, headers=write).status_code == 403
    assert client.delete("/v1/boards/secret", headers=write).status_code == 403
    assert client.post("/v1/boards/secret/users/ada/hide", headers=write).status_code == 403
    assert client.get("/v1/boards/secret", headers=admin).json()["reads"] == "key"  # nothing changed
    assert client.get("/v1/boards/secret/users/ada", headers=read).json()["score"] == 5


def test_a_boards_rules_are_shown_to_game_servers_not_to_players(
    client: TestClient, keys: dict[Scope, tuple[str, str]]
) -> None:
    read, write, admin = (bearer(keys[s][1]) for s in Scope)
    rules = {"max_score": 1000}
    assert client.patch("/v1/boards/open", json={"rules": rules}, headers=admin).json()["rules"] == rules
    assert client.get("/v1/boards/open", headers=write).json()["rules"] == rules
    for headers in (read, {}):  # a player's client, with its read key or none (a public board)
        shown = client.get("/v1/boards/open", headers=headers).json()
        assert shown["board"] == "open" and "rules" not in shown


@pytest.mark.parametrize(
    "header", ["Bearer pk_0123456789abcdef_" + "x" * 43, "Bearer nonsense", "Basic YWRhOmFkYQ==", "Bearer "]
)
def test_an_unknown_key_is_refused_even_on_a_public_board(client: TestClient, header: str) -> None:
    unknown = refusals("unknown")
    answer = client.get("/v1/boards/open/top", headers={"authorization": header})
    assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer"
    assert refusals("unknown") == unknown + 1
    assert client.get("/healthz", headers={"authorization": header}).status_code == 200  # public routes never mind


def test_a_public_board_is_read_without_a_key_a_key_only_one_is_not(
    client: TestClient, keys: dict[Scope, tuple[str, str]]
) -> None:
    write, admin = bearer(keys[Scope.WRITE][1]), bearer(keys[Scope.ADMIN][1])
    for board in ("open", "secret"):
        client.post(f"/v1/boards/{board}/scores?wait=true", json={"user_id": "ada", "score": 3}, headers=write)
    for path in ("", "/top", "/users/ada", "/users/ada/around", "/count", "/periods?window=all"):
        assert client.get(f"/v1/boards/open{path}").status_code == 200, path
        assert client.get(f"/v1/boards/secret{path}").status_code == 401, path
    assert client.post("/v1/boards/open/users/lookup", json={"user_ids": ["ada"]}).status_code == 200
    assert client.post("/v1/boards/open/scores", json={"user_id": "eve", "score": 1}).status_code == 401
    assert client.get("/v1/boards/nowhere/top").status_code == 401  # no board's existence told
    assert client.patch("/v1/boards/secret", json={"reads": "public"}, headers=admin).json()["reads"] == "public"
    assert client.get("/v1/boards/secret/top").status_code == 200
    assert client.get("/v1/users/ada/friends").status_code == 401  # a friend list is about users, never public
    assert client.get("/v1/boards/open/users/ada/friends").status_code == 401  # nor a friends board, which shows one


def test_the_board_list_without_a_key_names_only_public_boards(
    client: TestClient, keys: dict[Scope, tuple[str, str]]
) -> None:
    assert client.get("/v1/boards").json() == {"boards": ["open"]}
    assert client.get("/v1/boards", headers=bearer(keys[Scope.READ][1])).json() == {"boards": ["open", "secret"]}
    client.patch("/v1/boards/open", json={"reads": "key"}, headers=bearer(keys[Scope.ADMIN][1]))
    assert client.get("/v1/boards").json() == {"boards": []}


def test_live_updates_of_a_key_only_board_need_a_key(client: TestClient, keys: dict[Scope, tuple[str, str]]) -> None:
    with client.websocket_connect("/v1/boards/secret/live") as ws:
        assert ws.receive_json()["error"]["code"] == "unauthorized"
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()
    with client.websocket_connect("/v1/boards/open/live") as ws:
        assert ws.receive_json()["type"] == "snapshot"
    with client.websocket_connect("/v1/boards/secret/live", headers=bearer(keys[Scope.READ][1])) as ws:
        assert ws.receive_json()["type"] == "snapshot"


def test_a_key_revoked_by_the_cli_fails_within_the_cache_time(
    client: TestClient, settings: Settings, keys: dict[Scope, tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    key_id, key = keys[Scope.READ]
    assert client.get("/v1/boards/secret/top", headers=bearer(key)).status_code == 200
    monkeypatch.setenv("PODIUM_DATA", str(settings.data))
    assert main(["keys", "revoke", key_id]) == 0  # another process's revoke: through the store
    revoked_at = time.monotonic()
    while client.get("/v1/boards/secret/top", headers=bearer(key)).status_code != 401:
        assert time.monotonic() - revoked_at < CACHE_S + 0.5, "the revoke was not seen within key_cache_s"
        time.sleep(0.05)
    answer = client.get("/v1/boards/secret/top", headers=bearer(key))
    assert answer.json()["error"]["message"] == "this API key was revoked"


def test_a_key_revoked_through_the_serving_process_fails_at_once(
    client: TestClient, keys: dict[Scope, tuple[str, str]]
) -> None:
    key_id, key = keys[Scope.WRITE]
    assert client.get("/v1/boards/secret/top", headers=bearer(key)).status_code == 200
    services: ApiServices = client.app.state.services  # type: ignore[attr-defined]
    assert services.keys is not None
    revoked = refusals("revoked")
    client.portal.call(services.keys.revoke, key_id)  # type: ignore[union-attr]
    assert client.get("/v1/boards/secret/top", headers=bearer(key)).status_code == 401
    assert refusals("revoked") == revoked + 1


def test_no_secret_reaches_the_logs(
    client: TestClient, keys: dict[Scope, tuple[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = [key.rpartition("_")[2] for _, key in keys.values()]
    for _, key in keys.values():
        client.get("/v1/boards/secret/top", headers=bearer(key))
        client.post("/v1/boards/secret/scores", content=b"{not json", headers=bearer(key))
        client.get("/v1/boards/secret/top", headers=bearer(key[:-2] + "zz"))
    logged = caplog.text + " ".join(str(vars(r)) for r in caplog.records)
    assert not any(s in logged for s in secrets)


def test_the_openapi_document_names_each_operations_scope(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    assert doc["components"]["securitySchemes"]["bearer"] == {**doc["components"]["securitySchemes"]["bearer"],
                                                              "type": "http", "scheme": "bearer"}  # fmt: skip
    for (method, path), access in EXPECTED.items():
        operation = doc["paths"].get(path, {}).get(method.lower())
        if operation is None:
            continue  # not every route is documented (the WebSocket)
        needed = {"bearer": [access.scope.value]}
        assert operation["security"] == ([{}, needed] if access.public_reads else [needed]), (method, path)
        assert operation["responses"]["401"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
        assert ("403" in operation["responses"]) == (access.scope is not Scope.READ)
    assert doc["paths"]["/healthz"]["get"]["security"] == []


def test_the_cli_shows_a_key_once_and_the_list_never(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PODIUM_DATA", str(tmp_path / "cli"))
    assert main(["keys", "create", "--scope", "write", "--name", "game-server-1"]) == 0
    made = capsys.readouterr()
    key = made.out.strip()
    assert re.fullmatch(r"pk_[0-9a-f]{16}_[A-Za-z0-9_-]{43,}", key) and "shown only now" in made.err
    key_id, secret = key[3:19], key[20:]
    assert main(["keys", "list"]) == 0
    listed = capsys.readouterr().out
    assert key_id in listed and "game-server-1" in listed and "write" in listed
    assert secret not in listed and key not in listed
    assert main(["keys", "revoke", key_id, "--data", str(tmp_path / "cli")]) == 0
    assert "refuses it within 5 s" in capsys.readouterr().out
    assert main(["keys", "list"]) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if key_id in line)
    assert " yes " in row
    assert main(["keys", "revoke", "0" * 16]) == 1


def test_serving_with_no_key_says_how_to_make_one_and_makes_none(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = Settings(data=tmp_path / "data")
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/boards/any/top").status_code == 401
    assert "podium keys create --scope admin" in caplog.text

    async def listed() -> list[object]:
        async with managed_keys(settings) as keys:
            return list(await keys.records())

    assert asyncio.run(listed()) == []
