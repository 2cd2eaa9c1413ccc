"""The embedded rank history writes a batch of points in one transaction: the rank-worker
records a point for every score, and a transaction (a sync of the WAL) per point made it
fall behind at a few thousand scores a second (issue 19)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from podium.history.base import Point
from podium.history.sqlite import SqliteRankHistory


def wal_frames(path: Path) -> int:
    """Frames in the WAL file: one page image a page a commit touched (a 32-byte header,
    then frames of 24 bytes and a page each)."""
    page_size = sqlite3.connect(path).execute("PRAGMA page_size").fetchone()[0]
    wal = path.with_name(path.name + "-wal")
    return (wal.stat().st_size - 32) // (24 + page_size) if wal.exists() else 0


async def test_a_batch_of_points_is_written_in_one_transaction(tmp_path: Path) -> None:
    history = SqliteRankHistory(tmp_path / "history.db", points=100)
    await history.open()
    try:
        before = wal_frames(tmp_path / "history.db")
        await history.record([Point("b", f"u{i}", 1_000 + i, 1, i, 200 - i) for i in range(200)])
        written = wal_frames(tmp_path / "history.db") - before
        kept = await history.points("b", "u7", from_us=None, to_us=None, limit=10)
    finally:
        await history.close()
    assert kept == [Point("b", "u7", 1_007, 1, 7, 193)]
    # 200 points fit in a few pages: one commit writes each once. A commit a point wrote
    # at least one frame each (200 or more).
    assert 0 < written < 20, written
