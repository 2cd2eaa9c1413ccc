"""A windowed board's rank history, on the embedded engines (SQLite history, the in-memory
rank index): once a period has ended, its final rank is a point at the period's end, read
from the period's own ranking, and the next period's points come after it."""

from __future__ import annotations

from pathlib import Path

import podium.domain.windows as w
from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.history.base import Point
from podium.history.sqlite import SqliteRankHistory
from podium.index.memory import MemoryRankIndex
from podium.usecases.rank_history import History
from podium.usecases.standings import Standings

DAY_US = 86_400_000_000
MONDAY_US = 1_796_601_600_000_000  # 2026-12-07T00:00:00Z


async def test_a_finished_period_adds_its_final_rank_at_its_end(tmp_path: Path) -> None:
    board = Board("daily", windows=("all", "day"))
    day = w.parse_window("day")
    monday = board.renamed(w.period_board(board.name, day, w.period_at(day, board.timezone, MONDAY_US).id))
    tuesday_us = MONDAY_US + DAY_US
    tuesday = board.renamed(w.period_board(board.name, day, w.period_at(day, board.timezone, tuesday_us).id))
    index = MemoryRankIndex()
    kept = SqliteRankHistory(tmp_path / "history.db", points=100)
    await kept.open()
    try:
        # Monday: ada scores 5 (rank 1), then bob 9 passes her after her last change: her
        # last point says rank 1, the period's final rank is 2.
        await index.apply(monday, [Total(monday.name, "ada", 5, 1, MONDAY_US + 10, LogPosition(0, 1))])
        await kept.record([Point(monday.name, "ada", MONDAY_US + 10, 1, 5, 1)])
        await index.apply(monday, [Total(monday.name, "bob", 9, 1, MONDAY_US + 20, LogPosition(0, 2))])
        await index.apply(tuesday, [Total(tuesday.name, "ada", 3, 1, tuesday_us + 10, LogPosition(0, 3))])
        await kept.record([Point(tuesday.name, "ada", tuesday_us + 10, 1, 3, 1)])
        history = History(kept, Standings(index), points=100)
        read = await history.read(board, "day", "ada", from_us=None, to_us=None, limit=10, now_us=tuesday_us + 99)
        assert [(p.at_us, p.score, p.rank, p.final) for p in read] == [
            (tuesday_us + 10, 3, 1, False),
            (tuesday_us, 5, 2, True),  # Monday's end: its final rank
            (MONDAY_US + 10, 5, 1, False),
        ]
        assert [p.to_json()["period"] for p in read] == [tuesday.name.split("~")[-1]] + [monday.name.split("~")[-1]] * 2
        # from/to and limit hold for the final points too.
        later = await history.read(
            board, "day", "ada", from_us=tuesday_us + 1, to_us=None, limit=10, now_us=tuesday_us + 99
        )
        assert [p.final for p in later] == [False]
        assert (
            len(await history.read(board, "day", "ada", from_us=None, to_us=None, limit=2, now_us=tuesday_us + 99)) == 2
        )
    finally:
        await kept.close()
