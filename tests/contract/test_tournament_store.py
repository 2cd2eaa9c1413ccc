"""The tournament store port's contract, for every adapter (Cassandra's needs the local
stack): places first come first served up to the size, exactly, under racing joiners from
two connections (two api processes); attempts counted once per id, up to the limit; a
board's rows dropped in every period; a finished period's rows expired."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from podium.tournaments.base import Attempt, Joined, TournamentStore
from tests.distributed.stack import two_connections


@pytest.fixture(params=["sqlite", pytest.param("cassandra", id="distributed", marks=pytest.mark.distributed)])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[TournamentStore]]:
    # Two connections to one store, as two api processes have.
    def sqlite() -> TournamentStore:
        from podium.tournaments.sqlite import SqliteTournamentStore

        return SqliteTournamentStore(tmp_path / "tournaments.db")

    def cassandra(store: Any) -> TournamentStore:
        from podium.tournaments.cassandra import CassandraTournamentStore

        return CassandraTournamentStore(store)

    async with two_connections(request.param, request, sqlite, cassandra) as both:
        yield both


@pytest.fixture
def board() -> str:
    return f"cup-{uuid.uuid4().hex[:10]}"  # the distributed cases share one keyspace


async def test_places_go_first_come_first_served_up_to_the_size(stores: list[TournamentStore], board: str) -> None:
    store = stores[0]
    assert await store.join(board, "p1", "ada", 2) is Joined.JOINED
    assert await store.join(board, "p1", "ada", 2) is Joined.ALREADY
    assert await store.join(board, "p1", "bob", 2) is Joined.JOINED
    assert await store.join(board, "p1", "cy", 2) is Joined.FULL
    assert not await store.has_joined(board, "p1", "cy")
    assert await store.players(board, "p1") == 2
    assert await store.join(board, "p2", "cy", 2) is Joined.JOINED  # each period counts its own
    assert await store.players(board, "p2") == 1


async def test_a_place_given_up_is_free_again(stores: list[TournamentStore], board: str) -> None:
    store = stores[0]
    for user in ("ada", "bob"):
        assert await store.join(board, "p1", user, 2) is Joined.JOINED
    assert await store.leave(board, "p1", "ada")
    assert not await store.leave(board, "p1", "ada")
    assert not await store.has_joined(board, "p1", "ada")
    assert await store.join(board, "p1", "cy", 2) is Joined.JOINED
    assert await store.join(board, "p1", "ada", 2) is Joined.FULL
    assert await store.players(board, "p1") == 2


async def test_racing_joiners_from_two_connections_fill_exactly_the_size(
    stores: list[TournamentStore], board: str
) -> None:
    size, joiners = 5, 40
    outcomes = await asyncio.gather(*(stores[i % 2].join(board, "p1", f"u{i}", size) for i in range(joiners)))
    won = [f"u{i}" for i, o in enumerate(outcomes) if o is Joined.JOINED]
    assert len(won) == size and outcomes.count(Joined.FULL) == joiners - size
    assert await stores[1].players(board, "p1") == size
    for i in range(joiners):
        assert await stores[0].has_joined(board, "p1", f"u{i}") is (f"u{i}" in won)


async def test_an_attempt_counts_once_whatever_its_retries(stores: list[TournamentStore], board: str) -> None:
    store = stores[0]
    assert await store.attempt(board, "p1", "ada", "k:1", 2) is Attempt.COUNTED
    assert await store.attempt(board, "p1", "ada", "k:1", 2) is Attempt.REPEATED
    assert await store.attempt(board, "p1", "ada", "k:2", 2) is Attempt.COUNTED
    assert await store.attempt(board, "p1", "ada", "k:3", 2) is Attempt.OVER
    assert await store.attempt(board, "p1", "ada", "k:2", 2) is Attempt.REPEATED  # still a retry when full
    assert await store.attempt(board, "p1", "bob", "k:3", 2) is Attempt.COUNTED  # per user
    assert await store.attempt(board, "p2", "ada", "k:3", 2) is Attempt.COUNTED  # per period
    await store.forget_attempt(board, "p1", "ada", "k:2")
    assert await store.attempt(board, "p1", "ada", "k:3", 2) is Attempt.COUNTED


async def test_a_dropped_board_has_no_players_and_no_attempts_in_any_period(
    stores: list[TournamentStore], board: str
) -> None:
    store, other = stores[0], f"{board}-other"
    for period in ("p1", "p2"):
        assert await store.join(board, period, "ada", 2) is Joined.JOINED
        assert await store.join(board, period, "bob", 2) is Joined.JOINED
        assert await store.attempt(board, period, "cy", "k:1", 1) is Attempt.COUNTED  # no join needed
    assert await store.join(other, "p1", "ada", 2) is Joined.JOINED
    assert await store.attempt(other, "p1", "ada", "k:1", 1) is Attempt.COUNTED
    await stores[1].drop(board)
    for period in ("p1", "p2"):
        assert await store.players(board, period) == 0
        assert not await store.has_joined(board, period, "ada")
        assert await store.join(board, period, "dee", 1) is Joined.JOINED  # the first place is free
        assert await store.attempt(board, period, "cy", "k:2", 1) is Attempt.COUNTED  # none made before
    assert await store.players(other, "p1") == 1  # another board keeps its own
    assert await store.attempt(other, "p1", "ada", "k:2", 1) is Attempt.OVER
    await store.drop(f"{board}-never")  # a board that never had a tournament row


async def test_racing_retries_of_one_attempt_count_it_once(stores: list[TournamentStore], board: str) -> None:
    # Each attempt sent four times at once, through both connections: counted once each.
    outcomes = await asyncio.gather(
        *(stores[r % 2].attempt(board, "p1", "ada", f"k:{a}", 3) for a in range(5) for r in range(4))
    )
    by_attempt = [outcomes[a * 4 : a * 4 + 4] for a in range(5)]
    counted = [a for a, each in enumerate(by_attempt) if Attempt.COUNTED in each]
    assert len(counted) == 3
    for a, each in enumerate(by_attempt):
        if a in counted:
            assert each.count(Attempt.COUNTED) == 1 and each.count(Attempt.OVER) == 0
        else:
            assert set(each) == {Attempt.OVER}


async def test_a_periods_rows_expire_when_it_says(stores: list[TournamentStore], board: str) -> None:
    store = stores[0]
    now_us = time.time_ns() // 1000
    soon, later = now_us + 1_500_000, now_us + 3600 * 1_000_000
    assert await store.join(board, "p1", "ada", 2, expires_at_us=soon) is Joined.JOINED
    assert await store.attempt(board, "p1", "ada", "k:1", 1, expires_at_us=soon) is Attempt.COUNTED
    assert await store.join(board, "p2", "bob", 2, expires_at_us=later) is Joined.JOINED
    assert await store.attempt(board, "p2", "bob", "k:1", 1, expires_at_us=later) is Attempt.COUNTED
    assert await store.join(board, "p3", "cy", 2) is Joined.JOINED  # no expiry: kept
    assert await store.forget_expired(now_us) == 0  # nothing expired yet: SQLite deletes none
    await asyncio.sleep(2.5)  # past `soon` (a Cassandra TTL is whole seconds, rounded up)
    await stores[1].forget_expired(time.time_ns() // 1000)  # SQLite's housekeeping; Cassandra's TTL did it
    assert await store.players(board, "p1") == 0 and not await store.has_joined(board, "p1", "ada")
    assert await store.attempt(board, "p1", "ada", "k:2", 1, expires_at_us=later) is Attempt.COUNTED
    assert await store.players(board, "p2") == 1 and await store.has_joined(board, "p2", "bob")
    assert await store.attempt(board, "p2", "bob", "k:2", 1, expires_at_us=later) is Attempt.OVER
    assert await store.players(board, "p3") == 1
