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
    "region",
)
TOTAL_COLUMNS = ", ".join(COLUMNS)


PLACEHOLDERS = ", ".join("?" for _ in COLUMNS)


def total_from_row(row: Sequence[Any]) -> Total:
    board, user_id, total, version, reached, partition, offset, removed, updated, *rest = row
    # Rows written before a column existed read it as NULL: the column's default.
    sub, best, hidden, name, metadata, region = (list(rest) + [None] * 6)[:6]
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
        region or "",
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
        t.region,
    )


def board_from_row(name: str, order: str, operator: str, settings: str | None) -> Board:
    """A board as stored: its settings JSON, or (a board stored before settings) its columns."""
    return Board.from_settings(name, orjson.loads(settings) if settings else {"order": order, "operator": operator})


def batches_by_size(rows: Sequence[tuple[Any, ...]], max_bytes: int) -> list[list[tuple[Any, ...]]]:
    """Rows (of one partition, or of a few on one replica) cut into batches of about
    `max_bytes` each."""
    batches: list[list[tuple[Any, ...]]] = [[]]
    size = 0
    for row in rows:
        # The texts (user id, display name, metadata) plus ~100 bytes of numbers and cell
        # overhead: an estimate on the safe side of what Cassandra counts.
        row_size = 100 + sum(len(v.encode()) for v in row if isinstance(v, str))
        if batches[-1] and size + row_size > max_bytes:
            batches.append([])
            size = 0
        batches[-1].append(row)
        size += row_size
    return batches if batches[-1] else []
