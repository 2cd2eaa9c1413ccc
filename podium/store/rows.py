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
    "steps",
)
TOTAL_COLUMNS = ", ".join(COLUMNS)
# Columns added after the first schema: a row may lack them, and reads them as their default
# (total_from_row; the change feed too, podium/cdc/debezium.py).
OPTIONAL = ("subscore", "best_total", "hidden", "display_name", "metadata", "region", "steps")


PLACEHOLDERS = ", ".join("?" for _ in COLUMNS)


def total_from_row(row: Sequence[Any]) -> Total:
    board, user_id, total, version, reached, partition, offset, removed, updated, *rest = row
    # A row without the later columns, or with them NULL (written before they existed), reads
    # each as its default. Padded only when short: the change feed decodes a row a change.
    if len(rest) != len(OPTIONAL):
        rest = (rest + [None] * len(OPTIONAL))[: len(OPTIONAL)]
    sub, best, hidden, name, metadata, region, steps = rest
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
        steps or "",
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
        t.steps,
    )


def first_row_from_total(t: Total, unset: Any) -> tuple[Any, ...]:
    """A user's first total on a board (version 1) as a row whose optional columns at their
    default are `unset` (the driver's UNSET_VALUE): no cell is written for them, and an
    absent cell reads back, from the store and from the change feed, as that same default.
    A new user's row is then 7 cells instead of 13: less for Cassandra to write, and less
    for Debezium to read and for the rank-worker to decode. Only a first total: a later one
    must overwrite whatever its predecessor wrote, so it writes every column."""
    row = row_from_total(t)
    return (
        *row[:9],
        t.subscore or unset,
        unset if t.best_total == t.total else t.best_total,
        t.hidden or unset,
        t.display_name or unset,
        t.metadata or unset,
        t.region or unset,
        t.steps or unset,
    )


def later_row_from_total(t: Total, unset: Any) -> tuple[Any, ...]:
    """A later total as a row: every column, since it must overwrite whatever its
    predecessor wrote, but `steps` only when it has some. Only the change feed reads them
    (the db-worker never carries a row's steps into a new batch), so a stale value left in
    the row is never read, and a score with no steps (most) costs no cell for them."""
    return (*row_from_total(t)[:-1], t.steps or unset)


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
