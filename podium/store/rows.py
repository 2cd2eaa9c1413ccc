"""A total as a row of columns, in one order shared by every store and the change feed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from podium.domain.totals import LogPosition, Total

COLUMNS = (
    "board",
    "user_id",
    "total",
    "version",
    "reached_at_us",
    "log_partition",
    "log_offset",
    "removed",
    "updated_at_us",
)
TOTAL_COLUMNS = ", ".join(COLUMNS)


def total_from_row(row: Sequence[Any]) -> Total:
    board, user_id, total, version, reached, partition, offset, removed, updated = row
    return Total(board, user_id, total, version, reached, LogPosition(partition, offset), bool(removed), updated)


def row_from_total(t: Total) -> tuple[Any, ...]:
    p = t.position
    return (t.board, t.user_id, t.total, t.version, t.reached_at_us, p.partition, p.offset, t.removed, t.updated_at_us)
