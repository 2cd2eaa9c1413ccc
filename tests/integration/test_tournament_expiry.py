"""A tournament's rows expire after its period (issue 22's leftovers): the use case writes
each join and attempt to expire at the period's end plus PODIUM_TOURNAMENT_ROWS_KEPT_S, the
embedded housekeeping deletes them then and not before, and a finished period's results,
read from the totals, do not need them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from podium.domain.boards import Board
from podium.domain.tournament_periods import active_period
from podium.domain.tournaments import Tournament
from podium.errors import InvalidInput
from podium.pipeline.ingest import Submission
from podium.settings import Settings
from podium.store.sqlite import SqliteStore
from podium.tournaments.sqlite import SqliteTournamentStore
from podium.usecases.board_settings import Boards
from podium.usecases.period_boards import now_us
from podium.usecases.tournaments import Tournaments

KEPT_S = 600


@pytest.fixture
async def rows(tmp_path: Path) -> AsyncIterator[SqliteTournamentStore]:
    store = SqliteTournamentStore(tmp_path / "tournaments.db")
    await store.open()
    yield store
    await store.close()


async def test_joins_and_attempts_expire_the_setting_after_the_period_ends(
    rows: SqliteTournamentStore, store: SqliteStore
) -> None:
    started = now_us() - 60_000_000
    board = Board("cup", tournament=Tournament(started, duration_s=3600, join_required=True, max_attempts=3))
    tournaments = Tournaments(rows, Boards(store), rows_kept_s=KEPT_S)
    await tournaments.join(board, "ada")
    await tournaments.enforce(board, [Submission("cup", "ada", 5, key="run-1")], batch=False)
    assert board.tournament is not None
    period = active_period(board.tournament, board.timezone, now_us())
    assert period is not None
    expires_us = period.end_us + KEPT_S * 1_000_000
    assert await rows.forget_expired(expires_us - 1) == 0  # kept a while after the end
    assert await rows.players("cup", period.id) == 1
    assert await rows.forget_expired(expires_us) == 2  # the join and the attempt
    assert await rows.players("cup", period.id) == 0


def test_the_setting_is_checked() -> None:
    assert Settings(tournament_rows_kept_s=0).tournament_rows_kept_s == 0
    with pytest.raises(InvalidInput):
        Settings(tournament_rows_kept_s=-1)
