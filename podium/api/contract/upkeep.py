"""The operators' endpoints (api/routes.py): health, a board's buckets, reconcile."""

from __future__ import annotations

from typing import Annotated, Any

from msgspec import UNSET, Meta, Struct, UnsetType

from podium.api.contract.fields import Id

MAX_RECONCILE_BOARDS = 1000


class WorkerHealth(Struct):
    running: bool
    restarts: Annotated[int, Meta(ge=0, description="Restarts after an error, with backoff")]


class Health(Struct):
    status: Annotated[str, Meta(description="ok: serving")]
    profile: Annotated[str, Meta(description="embedded or distributed")]
    workers: Annotated[dict[str, WorkerHealth], Meta(description="The workers this process runs, by name")]


class Bucket(Struct):
    id: int
    lower: Annotated[
        dict[str, Any] | None, Meta(description="Where the bucket's range starts, as a rank key (null: the top)")
    ]
    shard: int
    members: int
    writes_per_s: float
    moving: Annotated[int, Meta(ge=0, description="Members still in the set it was split or moved from")]


class Buckets(Struct):
    board: Id
    buckets: list[Bucket]


class ReconcileRequest(Struct, forbid_unknown_fields=True):
    boards: Annotated[
        Annotated[list[Id], Meta(max_length=MAX_RECONCILE_BOARDS)] | None,
        Meta(description="Default (or null): every board"),
    ] = None
    dry_run: Annotated[bool, Meta(description="Check and report; repair nothing")] = False


class ReconcileReport(Struct, kw_only=True):
    """Per board what was checked, what drifted (user, kind, store and index values) and what
    was repaired; kinds: missing, extra, wrong_score, duplicate, wrong_rank."""

    started_at: str
    dry_run: bool
    seconds: float | UnsetType = UNSET
    totals: dict[str, Any]
    boards: list[dict[str, Any]]


ANSWERS = (Health, Buckets, ReconcileReport)
