"""A total as a row of columns, in one order shared by every store and the change feed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from podium.domain.boards import Board
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
    "subscore",
    "best_total",
    "hidden",
    "display_name",
    "metadata",
)
TOTAL_COLUMNS = ", ".join(COLUMNS)


PLACEHOLDERS = ", ".join("?" for _ in COLUMNS)


def total_from_row(row: Sequence[Any]) -> Total:
    board, user_id, total, version, reached, partition, offset, removed, updated, *rest = row
    # Rows written before a column existed read it as NULL: the column's default.
    sub, best, hidden, name, metadata = (list(rest) + [None] * 5)[:5]
    return Total(
        board,
        user_id,
        total,
        version,
        reached,
        LogPosition(partition, offset),
        bool(removed),
        updated,
        sub or 0,
        best if best is not None else total,
        bool(hidden),
        name or "",
        metadata or "",
    )


def row_from_total(t: Total) -> tuple[Any, ...]:
    p = t.position
    return (
        t.board,
        t.user_id,
        t.total,
        t.version,
        t.reached_at_us,
        p.partition,
        p.offset,
        t.removed,
        t.updated_at_us,
        t.subscore,
        t.best_total,
        t.hidden,
        t.display_name,
        t.metadata,
    )


def board_from_row(name: str, order: str, operator: str, settings: str | None) -> Board:
    """A board as stored: its settings JSON, or (a board stored before settings) its columns."""
    return Board.from_settings(name, orjson.loads(settings) if settings else {"order": order, "operator": operator})
