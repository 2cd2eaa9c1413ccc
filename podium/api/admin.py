"""Admin endpoints: start a rebuild or a replay as a background job, and follow it.

They run in the API process because that is where the index is reachable: in the
embedded profile the index lives in the `podium serve` process's memory; in the
distributed profile the API talks to Redis, Cassandra and Kafka itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from starlette.requests import Request
from starlette.responses import Response

from podium.api.context import contract_of, services
from podium.api.contract import jobs
from podium.api.contract.decoding import decode
from podium.api.contract.operations import ERRORS, answer, body, path_param
from podium.api.requests import MAX_INT64, check_id, digits, fields, parse_json, read_body
from podium.api.responses import answer as encoded
from podium.cdc.base import ReplayStart
from podium.errors import InvalidInput
from podium.usecases.jobs import Job


def shown(job: Job) -> jobs.Job:
    return jobs.Job(**job.to_json())


def started(job: Job) -> Response:
    return encoded(shown(job), 202, headers={"location": f"/v1/admin/jobs/{job.id}"})


async def start_rebuild(request: Request) -> Response:
    svc = services(request)
    raw = await read_body(request, svc.settings.max_body_bytes)
    declared = decode(
        contract_of(request).decode_rebuild, raw or b"{}", lambda: rebuild_request(parse_json(raw, allow_empty=True))
    )
    board, force = rebuild_request(msgspec.to_builtins(declared))
    return started(await svc.admin.start_rebuild(board, force=force))


def rebuild_request(body: Any) -> tuple[str | None, bool]:
    """The board to rebuild (None: every board) and whether to take its rebuild over, from
    the body as parsed JSON, checked field by field (the contract's words for each error)."""
    data = fields(body, (), ("board", "force"))
    board = check_id(data["board"], "board") if data.get("board") is not None else None
    force = data.get("force", False)
    if not isinstance(force, bool):
        raise InvalidInput("force must be true or false", code="invalid_force")
    return board, force


def parse_start(value: Any) -> ReplayStart:
    """An offset (an integer ≥ 0, or its digits) or a time (ISO 8601; UTC if no zone is given)."""
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= MAX_INT64:
        return ReplayStart(offset=value)
    if isinstance(value, str) and digits(value) is not None:
        return ReplayStart(offset=int(value))
    if isinstance(value, str) and len(value) <= 64:
        try:
            at = datetime.fromisoformat(value)
            at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)
            return ReplayStart(at_us=int(at.timestamp() * 1_000_000))
        except (ValueError, OverflowError):  # not a time, or one past datetime's range in UTC
            pass
    raise InvalidInput(
        "from must be an offset (an integer ≥ 0) or a time (ISO 8601, e.g. 2025-01-31T12:00:00Z)", code="invalid_from"
    )


async def start_replay(request: Request) -> Response:
    svc = services(request)
    raw = await read_body(request, svc.settings.max_body_bytes)
    declared = decode(contract_of(request).decode_replay, raw, lambda: replay_request(parse_json(raw)))
    return started(await svc.admin.start_replay(replay_request(msgspec.to_builtins(declared))))


def replay_request(body: Any) -> ReplayStart:
    """Where to replay from, from the body as parsed JSON, checked field by field."""
    return parse_start(fields(body, ("from",))["from"])


async def get_job(request: Request) -> Response:
    job_id = check_id(request.path_params["job_id"], "job_id")
    return encoded(shown(await services(request).admin.jobs.get(job_id)))


PATHS: dict[str, Any] = {
    "/v1/admin/rebuild": {
        "post": {
            "summary": "Refill the rank index of a board (or every board) from the store, while serving",
            "operationId": "startRebuild",
            "requestBody": body("RebuildRequest", required=False),
            "responses": {
                "202": answer("Started; follow it at /v1/admin/jobs/{id}", "Job"),
                "409": answer("The board is being rebuilt already", "Error"),
                **ERRORS,
            },
        }
    },
    "/v1/admin/replay": {
        "post": {
            "summary": "Re-apply the change log from an offset or a time into the rank index",
            "operationId": "startReplay",
            "requestBody": body("ReplayRequest"),
            "responses": {"202": answer("Started; follow it at /v1/admin/jobs/{id}", "Job"), **ERRORS},
        }
    },
    "/v1/admin/jobs/{job_id}": {
        "parameters": [path_param("job_id")],
        "get": {
            "summary": "A job's progress: done of total, state, error",
            "operationId": "getJob",
            "responses": {
                "200": answer("The job", "Job"),
                "400": answer("Not a job id", "Error"),
                "404": answer("Unknown job", "Error"),
            },
        },
    },
}
