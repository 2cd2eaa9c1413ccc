"""A rebuild outlives a moment of index unavailability: a chunk whose fill fails with
BackendUnavailable (a replica resyncing misses WAIT, a connection drops) is filled again,
and the rebuilt board is exact; a fault that does not pass still fails the rebuild."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.errors import BackendUnavailable
from podium.index.generations import GenerationalRankIndex, MemoryGenerations
from podium.index.memory import MemoryRankIndex
from podium.store.sqlite import SqliteStore
from podium.usecases import rebuild as rebuild_module
from podium.usecases.board_settings import Boards
from podium.usecases.jobs import Job
from podium.usecases.rebuild import rebuild


async def stored_board(tmp_path: Path, users: int) -> tuple[SqliteStore, Boards, Board]:
    store = SqliteStore(tmp_path / "store.db")
    await store.open()
    boards = Boards(store)
    board, _ = await boards.create(Board("arena"))
    totals = [Total(board.name, f"u{i}", i * 10, 1, i, LogPosition(0, i)) for i in range(users)]
    await store.write_totals(totals, [])
    return store, boards, board


def failing_fills(index: GenerationalRankIndex, failures: int) -> list[int]:
    """Make the index's next `failures` fills fail as a dropped connection would."""
    calls: list[int] = []
    fill = index.fill

    async def flaky(*args: Any) -> list[Total]:
        calls.append(len(calls))
        if len(calls) <= failures:
            raise BackendUnavailable("redis shard 0: 0 of 1 replicas acknowledged in time")
        return await fill(*args)

    index.fill = flaky  # type: ignore[method-assign]
    return calls


async def test_a_chunk_that_fails_for_a_moment_is_filled_again(tmp_path: Path) -> None:
    store, boards, board = await stored_board(tmp_path, 25)
    index = GenerationalRankIndex(MemoryRankIndex(), MemoryGenerations())
    calls = failing_fills(index, 2)
    job = Job("j1", "rebuild")
    try:
        await rebuild(job, store, boards, index, [board.name], chunk_size=10)
        assert len(calls) == 3 + 2  # three chunks, the first filled on its third try
        assert job.done == job.total == 25
        page = await index.page(board, 1, 100)
        assert [(e.rank, e.user_id) for e in page] == [(r, f"u{24 - r + 1}") for r in range(1, 26)]
    finally:
        await store.close()


async def test_a_fault_that_does_not_pass_fails_the_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rebuild_module, "FILL_TRIES", 2)
    store, boards, board = await stored_board(tmp_path, 5)
    index = GenerationalRankIndex(MemoryRankIndex(), MemoryGenerations())
    failing_fills(index, 2)
    try:
        with pytest.raises(BackendUnavailable):
            await rebuild(Job("j2", "rebuild"), store, boards, index, [board.name], chunk_size=10)
        assert await index.page(board, 1, 10) == []  # the old copy (empty) still serves
    finally:
        await store.close()
