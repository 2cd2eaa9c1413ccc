"""Admin endpoints: start a rebuild or a replay as a background job, and follow it.

They run in the API process because that is where the index is reachable: in the
embedded profile the index lives in the `podium serve` process's memory; in the
distributed profile the API talks to Redis, Cassandra and Kafka itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from podium.api.context import services
from podium.api.contract.operations import ERRORS, ID, answer, body, path_param
from podium.api.requests import MAX_INT64, check_id, digits, fields, read_json
from podium.api.responses import json_response
from podium.cdc.base import ReplayStart
from podium.errors import InvalidInput
from podium.usecases.jobs import Job


def started(job: Job) -> Response:
    return json_response(job.to_json(), 202, headers={"location": f"/v1/admin/jobs/{job.id}"})


async def start_rebuild(request: Request) -> Response:
    svc = services(request)
    data = fields(await read_json(request, svc.settings.max_body_bytes, allow_empty=True), (), ("board", "force"))
    board = check_id(data["board"], "board") if data.get("board") is not None else None
    force = data.get("force", False)
    if not isinstance(force, bool):
        raise InvalidInput("force must be true or false", code="invalid_force")
    return started(await svc.admin.start_rebuild(board, force=force))


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
    data = fields(await read_json(request, svc.settings.max_body_bytes), ("from",))
    return started(await svc.admin.start_replay(parse_start(data["from"])))


async def get_job(request: Request) -> Response:
    job_id = check_id(request.path_params["job_id"], "job_id")
    return json_response((await services(request).admin.jobs.get(job_id)).to_json())


SCHEMAS: dict[str, Any] = {
    "RebuildRequest": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "board": {
                **ID,
                "type": ["string", "null"],
                "description": "The board to rebuild; absent or null: every board",
            },
            "force": {
                "type": "boolean",
                "default": False,
                "description": "Take over the board's rebuild at once (one whose process died is ended anyway "
                "within its job's lease)",
            },
        },
    },
    "ReplayRequest": {
        "type": "object",
        "required": ["from"],
        "properties": {
            "from": {
                "oneOf": [{"type": "integer", "minimum": 0}, {"type": "string", "format": "date-time"}],
                "description": "A change-log offset, or a time (ISO 8601, UTC if no zone)",
            }
        },
    },
    "Job": {
        "type": "object",
        "required": ["id", "kind", "state", "done", "total", "applied", "step", "error", "seconds"],
        "properties": {
            "id": {"type": "string"},
            "kind": {"enum": ["rebuild", "replay", "reconcile"], "description": "reconcile: the scheduled one"},
            "state": {"enum": ["running", "done", "failed"]},
            "done": {"type": "integer", "description": "Totals (rebuild) or changes (replay) read so far"},
            "total": {"type": "integer", "description": "How many there are to read"},
            "applied": {"type": "integer", "description": "How many of them changed the rank index"},
            "step": {"type": "string"},
            "error": {"type": ["string", "null"]},
            "seconds": {"type": "number"},
            "owner": {"type": "string", "description": "The process running the job (host:pid:random)"},
            "lease_until": {
                "type": ["string", "null"],
                "format": "date-time",
                "description": "While running: until when its process holds it; the process renews it, and "
                "a job whose process stopped is ended by another process once it passes. Null once ended",
            },
        },
    },
}

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
