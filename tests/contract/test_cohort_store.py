"""The cohort store port's contract, for every adapter (Cassandra's needs the local stack):
users placed in arrival order, each cohort filled to exactly its size before the next takes
anyone, a user placed once whatever the retries, and exactly the size under racing
placements from two connections (two db-workers)."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from podium.cohorts.base import CohortStore
from tests.distributed.stack import two_connections


@pytest.fixture(params=["sqlite", pytest.param("cassandra", id="distributed", marks=pytest.mark.distributed)])
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[list[CohortStore]]:
    # Two connections to one store, as two db-workers have.
    def sqlite() -> CohortStore:
        from podium.cohorts.sqlite import SqliteCohortStore

        return SqliteCohortStore(tmp_path / "cohorts.db")

    def cassandra(store: Any) -> CohortStore:
        from podium.cohorts.cassandra import CassandraCohortStore

        return CassandraCohortStore(store)

    async with two_connections(request.param, request, sqlite, cassandra) as both:
        yield both


@pytest.fixture
def board() -> str:
    return f"league-{uuid.uuid4().hex[:10]}"  # the distributed cases share one keyspace


async def test_users_fill_each_cohort_in_arrival_order(stores: list[CohortStore], board: str) -> None:
    store = stores[0]
    placed = [await store.place(board, f"u{i}", 3) for i in range(7)]
    assert placed == [1, 1, 1, 2, 2, 2, 3]
    assert await store.members(board, 1) == ["u0", "u1", "u2"]
    assert await store.members(board, 3) == ["u6"]
    assert await store.members(board, 4) == []
    assert await store.cohort_of(board, "u4") == 2
    assert await store.cohort_of(board, "nobody") is None


async def test_a_user_placed_before_stays_put(stores: list[CohortStore], board: str) -> None:
    store = stores[0]
    assert await store.place(board, "ada", 2) == 1
    assert await store.place(board, "bob", 2) == 1
    assert await store.place(board, "cy", 2) == 2
    for _ in range(3):  # a redelivered or retried first score
        assert await stores[1].place(board, "ada", 2) == 1
    assert await store.members(board, 1) == ["ada", "bob"]
    assert await store.place(f"{board}-other", "ada", 2) == 1  # each board places its own


async def test_a_batch_is_placed_in_its_order_and_keeps_who_was_placed(stores: list[CohortStore], board: str) -> None:
    store = stores[0]
    assert await store.place(board, "bob", 2) == 1
    placed = await store.place_all(board, ["ada", "bob", "cy", "ada", "dee", "eve"], 2)
    assert placed == {"ada": 1, "bob": 1, "cy": 2, "dee": 2, "eve": 3}
    assert await stores[1].members(board, 2) == ["cy", "dee"]
    assert await stores[1].place_all(board, ["eve", "fay"], 2) == {"eve": 3, "fay": 3}


async def test_a_dropped_board_places_afresh(stores: list[CohortStore], board: str) -> None:
    store = stores[0]
    for user in ("ada", "bob", "cy"):
        await store.place(board, user, 2)
    await store.drop(board)
    assert await store.cohort_of(board, "cy") is None and await store.members(board, 2) == []
    assert await store.place(board, "cy", 2) == 1


async def test_racing_first_scores_from_two_connections_make_cohorts_of_exactly_the_size(
    stores: list[CohortStore], board: str
) -> None:
    size, users = 4, 30
    # Every user placed twice at once, through both connections: a redelivery racing the first.
    placed = await asyncio.gather(*(stores[r % 2].place(board, f"u{i}", size) for i in range(users) for r in range(2)))
    by_user = {f"u{i}": placed[2 * i : 2 * i + 2] for i in range(users)}
    assert all(a == b for a, b in by_user.values()), by_user  # one cohort a user, whichever answered
    sizes = Counter(a for a, _ in by_user.values())
    full, rest = divmod(users, size)
    assert sizes == Counter({c: size for c in range(1, full + 1)} | ({full + 1: rest} if rest else {}))
    for cohort, count in sizes.items():
        members = await stores[1].members(board, cohort)
        assert len(members) == len(set(members)) == count
        assert all(by_user[m][0] == cohort for m in members)
