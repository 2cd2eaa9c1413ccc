"""The cohort store port's contract, for every adapter (Cassandra's needs the local stack):
users placed in arrival order, each cohort filled to exactly its size before the next takes
anyone, a user placed once whatever the retries, exactly the size under racing
placements from two connections (two db-workers), and a seat given up taken by the next new
user, also when seats are given up while others are placed."""

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


async def test_a_seat_given_up_goes_to_the_next_new_user(stores: list[CohortStore], board: str) -> None:
    store = stores[0]
    for i in range(7):
        await store.place(board, f"u{i}", 3)  # 1: u0 u1 u2, 2: u3 u4 u5, 3: u6
    assert await stores[1].free(board, "u4") == 2
    assert await stores[1].free(board, "u1") == 1
    assert await store.free(board, "u1") is None and await store.free(board, "nobody") is None  # again: nothing
    assert await store.cohort_of(board, "u1") is None
    assert await store.members(board, 1) == ["u0", "u2"]
    assert [await store.place(board, u, 3) for u in ("new1", "new2", "new3")] == [1, 2, 3]
    assert await store.members(board, 1) == ["u0", "new1", "u2"]  # by seat: the one u1 gave up
    assert await store.members(board, 2) == ["u3", "new2", "u5"]
    assert await store.place(board, "u1", 3) == 3  # back after leaving: a new user
    assert await store.place(board, "new4", 3) == 4


async def test_a_dropped_board_places_afresh_even_after_a_cohort_emptied(stores: list[CohortStore], board: str) -> None:
    store = stores[0]
    for i in range(6):
        await store.place(board, f"u{i}", 2)
    for user in ("u2", "u3"):  # cohort 2 empties; 3 still has users
        await store.free(board, user)
    await store.drop(board)
    assert await store.members(board, 3) == [] and await store.cohort_of(board, "u5") is None
    assert await store.place(board, "u5", 2) == 1


async def test_seats_given_up_while_others_are_placed_are_all_taken_again(
    stores: list[CohortStore], board: str
) -> None:
    size = 4
    for i in range(3 * size):
        await stores[i % 2].place(board, f"u{i}", size)
    # One user of each cohort leaves while six new ones race in, through both connections.
    leaving = ["u1", "u6", "u11"]
    racing = [stores[i % 2].free(board, u) for i, u in enumerate(leaving)]
    racing += [stores[i % 2].place(board, f"new{i}", size) for i in range(6)]
    await asyncio.gather(*racing)
    # However they interleaved, no cohort skipped: the next new users fill every seat left
    # before a cohort after the last full one takes anyone.
    users = 3 * size - len(leaving) + 6
    later = [await stores[i % 2].place(board, f"late{i}", size) for i in range(5 * size - users)]
    assert max(later) <= 5
    sizes = [len(await stores[1].members(board, c)) for c in range(1, 7)]
    assert sizes == [size] * 5 + [0]


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
