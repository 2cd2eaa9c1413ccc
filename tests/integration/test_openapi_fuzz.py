"""Every operation of /openapi.json, fuzzed with schemathesis against the embedded pipeline:
no answer is a 5xx, and every answer's status, content type, headers and body are the ones
documented; a request the document says is invalid is refused with a 4xx.

Each operation gets a fresh service with a few boards, users, friends and a finished job, so
that requests reach real entries. Schemathesis's coverage phase tries the documented
boundaries and broken values (unknown names, out-of-range numbers, wrong types, missing
fields); its fuzzing phase then draws EXAMPLES schema-shaped requests, where every
well-formed path name is mapped onto one that exists. Derandomized: the same requests on
every run. Requests carry an admin key (the headers fixture)."""

from __future__ import annotations

import asyncio
import os
import time
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    allow_header_conformance,
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from starlette.applications import Starlette

from podium.api.app import ROUTES, create_app
from podium.api.contract.build import Contract
from podium.api.openapi import document
from podium.api.openapi_auth import secure
from podium.bootstrap import managed_keys
from podium.domain.boards import is_valid_id
from podium.domain.keys import Scope
from podium.settings import Settings

# Fuzzing-phase requests per operation, on top of the coverage phase's (about 100). FUZZ_EXAMPLES
# runs a deeper search by hand (FUZZ_EXAMPLES=200: about 3 minutes; each new number, new requests).
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))

# What the service holds before each operation is fuzzed (the job is filled in when it exists).
SEEDED: dict[str, list[str]] = {
    "board": ["arena", "weekly"],
    "user_id": ["ada", "bob", "cy"],
    "friend_id": ["ada", "bob", "cy"],
    "job_id": [],
}

# Left out: positive_data_acceptance (a schema-valid request may still break a rule the
# schema cannot say, e.g. a subscore on a board without one, or 1.0 as a score); the
# stateful checks need links the document does not declare.


@schemathesis.check
def allow_header_of_the_path(ctx: Any, response: Any, case: Any) -> bool | None:
    """A 405's Allow lists exactly the documented methods of the path, except at
    /v1/boards/{board}/users/lookup: that path is also user "lookup" of
    /v1/boards/{board}/users/{user_id}, whose GET and DELETE it truly answers."""
    if case.operation.path == "/v1/boards/{board}/users/lookup":
        return None
    result: bool | None = allow_header_conformance(ctx, response, case)
    return result


@schemathesis.check
def negative_data_rejection_as_sent(ctx: Any, response: Any, case: Any) -> bool | None:
    """negative_data_rejection, judging the case as it was sent: with the key this test adds to
    every request. A case drawn without the Authorization header (missing_required_header's to
    judge) that also carries an unknown query parameter is then negative only in that parameter,
    which the service ignores and schemathesis lets by; without this, whether such a case is
    drawn for an operation depended on the rest of the document."""
    drawn = case.headers
    case.headers = {**(drawn or {}), "Authorization": response.request.headers.get("authorization", "")}
    try:
        result: bool | None = negative_data_rejection(ctx, response, case)
        return result
    finally:
        case.headers = drawn


CHECKS = [
    allow_header_of_the_path,
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection_as_sent,
    missing_required_header,
    unsupported_method,
]

# The live event stream never ends: validate its first event (the snapshot), then hang up.
# The document at the default limits, which service_settings keeps.
SCHEMA = schemathesis.openapi.from_dict(
    secure(document(Contract(Settings())), ROUTES), config=SchemathesisConfig.from_dict({"max-stream-events": 1})
)


@SCHEMA.hook
def map_path_parameters(ctx: Any, path_parameters: dict[str, Any] | None) -> dict[str, Any] | None:
    """A well-formed name becomes one that exists (the same one for the same draw); a broken
    one stays broken, so that the request is still refused."""
    if not path_parameters:
        return path_parameters
    mapped = dict(path_parameters)
    for name, value in path_parameters.items():
        known = SEEDED.get(name)
        if known and isinstance(value, str) and is_valid_id(value):
            mapped[name] = known[zlib.crc32(value.encode()) % len(known)]
    return mapped


@pytest.fixture
def headers(service_settings: Settings) -> dict[str, str]:
    """Sent with every request: an admin key, so that every operation is reached (the scope
    boundaries themselves are tests/integration/test_auth_api.py's)."""

    async def make() -> str:
        async with managed_keys(service_settings) as keys:
            _, key = await keys.create(Scope.ADMIN, "fuzz")
        return key

    return {"authorization": f"Bearer {asyncio.run(make())}"}


def seed(client: Any) -> None:
    assert client.put("/v1/boards/arena", json={}).status_code == 201
    weekly = {"windows": ["all", "week"], "subscore_order": "asc", "tie": "competition"}
    assert client.put("/v1/boards/weekly", json=weekly).status_code == 201
    users = SEEDED["user_id"]
    for board, extra in (("arena", {}), ("weekly", {"subscore": 1})):
        batch = {"scores": [{"user_id": u, "score": 10 * i, **extra} for i, u in enumerate(users)]}
        answer = client.post(f"/v1/boards/{board}/scores/batch?wait=true", json=batch)
        assert answer.status_code == 200, answer.text
    assert client.put(f"/v1/users/{users[0]}/friends", json={"friends": users[1:]}).status_code == 200
    assert client.post(f"/v1/boards/arena/users/{users[2]}/hide").status_code == 200
    job = client.post("/v1/admin/rebuild", json={"board": "arena"}).json()
    deadline = time.monotonic() + 30
    while job["state"] == "running" and time.monotonic() < deadline:
        time.sleep(0.02)
        job = client.get(f"/v1/admin/jobs/{job['id']}").json()
    assert job["state"] == "done", job
    SEEDED["job_id"] = [job["id"]]


@pytest.fixture
def service_settings(tmp_path: Path) -> Settings:
    """A fresh data directory, auth on; a short wait bounds each fuzzed ?wait=true request. No
    rate limits: the run sends hundreds of requests an operation from one address."""
    return Settings(data=tmp_path / "data", wait_timeout_s=2.0, auth="on", rate_key_per_s=0, rate_address_per_s=0)


@pytest.fixture
def app(service_settings: Settings, headers: dict[str, str]) -> Iterator[Starlette]:
    """A fresh service, seeded, serving the document the cases come from."""
    app = create_app(service_settings)
    try:
        with asgi.get_client(app) as client:  # starts the app's lifespan, kept until the end of the test
            client.headers.update(headers)
            assert client.get("/openapi.json").json() == SCHEMA.raw_schema
            seed(client)
        yield app
    finally:
        asgi.shutdown_lifespans()


@SCHEMA.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    deadline=None,
    # One service per operation, shared by its examples on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_operation_answers_as_documented(case: Any, app: Starlette, headers: dict[str, str]) -> None:
    case.call_and_validate(app=app, headers=headers, checks=CHECKS)
