"""The db-worker's side of cohorts (usecases/cohorts.Placement) on the embedded cohort store:
a batch's new users placed in arrival order, each once, only on boards with cohorts, a
removed user's seat given to the next new one in log order, and a board deleted in this
process placed afresh."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from podium.cohorts.sqlite import SqliteCohortStore
from podium.domain.boards import Board
from podium.usecases.cohorts import Placement


@pytest.fixture
async def cohorts(tmp_path: Path) -> AsyncIterator[SqliteCohortStore]:
    store = SqliteCohortStore(tmp_path / "cohorts.db")
    await store.open()
    yield store
    await store.close()


async def test_a_batch_places_its_new_users_in_arrival_order_once(cohorts: SqliteCohortStore) -> None:
    league = Board("league", cohort_size=2)
    plain = Board("plain")
    weekly = league.renamed("league~week~2026-W50")  # a window's period: the board's cohorts
    placement = Placement(cohorts)
    arrivals = [(league, "ada"), (plain, "zed"), (weekly, "bob"), (league, "ada"), (league, "cy")]
    await placement.place(arrivals)
    assert await cohorts.members("league", 1) == ["ada", "bob"]
    assert await cohorts.members("league", 2) == ["cy"]
    assert await cohorts.cohort_of("plain", "zed") is None  # no cohorts there: nothing placed
    # A redelivered batch, from a worker that forgot what it placed (a restart): no one moves.
    await Placement(cohorts).place([(league, "cy"), (league, "bob"), (league, "dee")])
    assert await cohorts.members("league", 2) == ["cy", "dee"]


async def test_a_removed_users_seat_goes_to_the_next_new_one_in_log_order(cohorts: SqliteCohortStore) -> None:
    league = Board("league", cohort_size=2)
    weekly = league.renamed("league~week~2026-W50")
    placement = Placement(cohorts)
    await placement.seat([(league, "ada", True), (league, "bob", True), (league, "cy", True)])
    # One batch: bob leaves (a privacy delete reaches a period's board too), dee arrives, bob
    # comes back; a score of ada, placed before, moves no one.
    await placement.seat([(weekly, "bob", False), (league, "dee", True), (league, "bob", True), (league, "ada", True)])
    assert await cohorts.members("league", 1) == ["ada", "dee"]
    assert await cohorts.members("league", 2) == ["cy", "bob"]
    await placement.seat([(Board("plain"), "zed", False)])  # no cohorts there: nothing to give up


async def test_a_board_deleted_in_this_process_is_placed_afresh(cohorts: SqliteCohortStore) -> None:
    league = Board("league", cohort_size=2)
    placement = Placement(cohorts)
    await placement.place([(league, "ada"), (league, "bob")])
    await cohorts.drop("league")
    placement.forget_board("league")
    await placement.place([(replace(league), "bob")])
    assert await cohorts.members("league", 1) == ["bob"]


async def test_what_it_remembers_is_bounded(cohorts: SqliteCohortStore) -> None:
    league = Board("league", cohort_size=3)
    placement = Placement(cohorts, remembered=2)
    await placement.place([(league, "ada"), (league, "bob")])
    await placement.place([(league, "cy")])  # over the bound: forgets, and reads again when needed
    await placement.place([(league, "ada"), (league, "dee")])
    assert await cohorts.members("league", 1) == ["ada", "bob", "cy"]
    assert await cohorts.members("league", 2) == ["dee"]
