"""The admin jobs' endpoints (api/admin.py): starting a rebuild or a replay, and a job's
progress (podium/usecases/jobs.py) as every process answers it."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from msgspec import Meta, Struct

from podium.api.contract.fields import Id
from podium.api.requests import MAX_INT64

MAX_TIME_CHARS = 64  # longer is no ISO 8601 time (api/admin.parse_start)

Offset = Annotated[int, Meta(ge=0, le=MAX_INT64)]
# A string of digits is an offset too (as a query string would send it); the schema names the time.
Time = Annotated[str, Meta(max_length=MAX_TIME_CHARS, extra_json_schema={"format": "date-time"})]


class RebuildRequest(Struct, forbid_unknown_fields=True):
    board: Annotated[Id | None, Meta(description="The board to rebuild; absent or null: every board")] = None
    force: Annotated[
        bool,
        Meta(
            description="Take over the board's rebuild at once (one whose process died is ended anyway "
            "within its job's lease)"
        ),
    ] = False


class ReplayRequest(Struct, forbid_unknown_fields=True):
    # `from` is Python's keyword: the field is from_ here, "from" on the wire.
    from_: Annotated[Offset | Time, Meta(description="A change-log offset, or a time (ISO 8601, UTC if no zone)")] = (
        msgspec.field(name="from")
    )


class Job(Struct, kw_only=True):
    id: str
    kind: Annotated[Literal["rebuild", "replay", "reconcile"], Meta(description="reconcile: the scheduled one")]
    state: Literal["running", "done", "failed"]
    done: Annotated[int, Meta(description="Totals (rebuild) or changes (replay) read so far")]
    total: Annotated[int, Meta(description="How many there are to read")]
    applied: Annotated[int, Meta(description="How many of them changed the rank index")]
    step: str
    error: str | None
    seconds: float
    owner: Annotated[str, Meta(description="The process running the job (host:pid:random)")]
    lease_until: Annotated[
        str | None,
        Meta(
            extra_json_schema={"format": "date-time"},
            description="While running: until when its process holds it; the process renews it, and a job "
            "whose process stopped is ended by another process once it passes. Null once ended",
        ),
    ]


REQUESTS = (RebuildRequest, ReplayRequest)
ANSWERS = (Job,)
