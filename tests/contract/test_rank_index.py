"""The rank index port's contract: every adapter answers like the plain reference model,
whatever order, duplicates or stale versions the change feed delivers."""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
from collections.abc import AsyncIterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podium.domain.boards import Board, Order
from podium.domain.ordering import total_key
from podium.domain.totals import LogPosition, Total, newest_per_user
from podium.index.base import RankIndex
from podium.index.memory import MemoryRankIndex
from tests.contract.conftest import IndexFactory

USERS = [f"u{i}" for i in range(12)]
_boards = itertools.count()


@pytest.fixture
async def index(make_index: IndexFactory) -> AsyncIterator[RankIndex]:
    idx = await make_index()
    yield idx
    await idx.close()


def fresh_board(order: Order = Order.DESC) -> Board:
    return Board(f"contract{next(_boards)}", order)


@st.composite
def histories(draw: st.DrawFn) -> tuple[Order, list[Total]]:
    """Each user's versions in order; then delivered shuffled, with duplicates."""
    order = draw(st.sampled_from(list(Order)))
    totals = []
    for user in draw(st.lists(st.sampled_from(USERS), unique=True, max_size=len(USERS))):
        for v in range(1, draw(st.integers(1, 4)) + 1):
            totals.append(
                Total(
                    "b",
                    user,
                    draw(st.integers(-5, 5) | st.sampled_from([2**53 - 1, -(2**53 - 1)])),
                    v,
                    draw(st.integers(0, 3)),
                    LogPosition(0, v),
                    removed=draw(st.booleans()) and v > 1,
                )
            )
    extra = draw(st.lists(st.sampled_from(totals), max_size=5)) if totals else []
    return order, draw(st.permutations(totals + extra))


def newest_of(delivered: list[Total]) -> dict[str, Total]:
    newest: dict[str, Total] = {}
    for t in delivered:
        if t.user_id not in newest or t.version > newest[t.user_id].version:
            newest[t.user_id] = t
    return newest


def expected(order: Order, delivered: list[Total]) -> list[tuple[int, str, int]]:
    board = Board("reference", order)
    live = sorted((t for t in newest_of(delivered).values() if t.ranked), key=lambda t: total_key(board, t))
    return [(i + 1, t.user_id, t.total) for i, t in enumerate(live)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(history=histories(), chunk=st.integers(1, 4))
def test_index_equals_reference(make_index: IndexFactory, history: tuple[Order, list[Total]], chunk: int) -> None:
    order, delivered = history
    board = fresh_board(order)
    delivered = [dataclasses.replace(t, board=board.name) for t in delivered]

    async def check() -> None:
        index = await make_index()
        try:
            for i in range(0, len(delivered), chunk):
                await index.apply(board, delivered[i : i + chunk])
            want = expected(order, delivered)
            got = [(e.rank, e.user_id, e.score) for e in await index.page(board, 1, 100)]
            assert got == want
            assert await index.count(board) == len(want)
            for rank, user, score in want:
                entry = await index.entry(board, user)
                assert entry is not None and (entry.rank, entry.score) == (rank, score)
            for first in range(1, len(want) + 2):
                page = await index.page(board, first, 3)
                assert [(e.rank, e.user_id, e.score) for e in page] == want[first - 1 : first + 2]
            for t in delivered:
                newest = max((d for d in delivered if d.user_id == t.user_id), key=lambda d: d.version)
                assert await index.position(board, t.user_id) == newest.position
                assert await index.newest(board, t.user_id) == (newest.position, newest.version)
        finally:
            await index.close()

    asyncio.run(check())


@st.composite
def histories_with_bans(draw: st.DrawFn) -> list[Total]:
    """Each user's versions in order, some removed, some hidden; delivered shuffled."""
    totals = []
    for user in draw(st.lists(st.sampled_from(USERS), unique=True, max_size=len(USERS))):
        for v in range(1, draw(st.integers(1, 3)) + 1):
            state = draw(st.sampled_from(["ranked", "ranked", "removed", "hidden"]))
            totals.append(
                Total(
                    "b",
                    user,
                    draw(st.integers(-3, 3)),
                    v,
                    draw(st.integers(0, 3)),
                    LogPosition(0, v),
                    removed=state == "removed",
                    hidden=state == "hidden",
                )
            )
    return draw(st.permutations(totals))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(delivered=histories_with_bans(), chunk=st.integers(1, 5))
def test_apply_ranked_gives_the_ranks_entries_read(
    make_index: IndexFactory, delivered: list[Total], chunk: int
) -> None:
    """The live hub's ranks come with the apply (on a one-bucket Redis board, from the same
    script): they must be what `entries` reads right after, hidden users' own view included."""
    board = fresh_board()
    delivered = [dataclasses.replace(t, board=board.name) for t in delivered]

    async def check() -> None:
        index = await make_index()
        reference = MemoryRankIndex()
        try:
            for i in range(0, len(delivered), chunk):
                batch = delivered[i : i + chunk]
                applied, ranks = await index.apply_ranked(board, batch)
                # (Redis applies only each user's newest of a batch; the reference each newer one,
                # so a user may first appear later in its list: compare the users' newest, not order.)
                by_user = {t.user_id: t for t in newest_per_user(reference.apply_now(board, batch))}
                assert {t.user_id: t for t in newest_per_user(applied)} == by_user
                users = [t.user_id for t in newest_per_user(applied) if not t.removed]
                read = await index.entries(board, users)
                assert ranks == {e.user_id: e.rank for e in read if e is not None}
                assert set(ranks) == set(users)
        finally:
            await index.close()

    asyncio.run(check())


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(delivered=histories_with_bans(), asked=st.lists(st.sampled_from([*USERS, "nobody"]), unique=True))
def test_unplaced_reads_the_entries_without_their_places(
    make_index: IndexFactory, delivered: list[Total], asked: list[str]
) -> None:
    """A cohort's lookup: the same totals, subscores, details, hidden flags and keys as
    `entries`, in the order asked, only every rank 0 (no place on the board is read)."""
    board = dataclasses.replace(fresh_board(), subscore_order=Order.ASC)
    delivered = [dataclasses.replace(t, board=board.name, display_name=t.user_id) for t in delivered]

    async def check() -> None:
        index = await make_index()
        try:
            await index.apply(board, delivered)
            placed = await index.entries(board, asked)
            expected = [None if e is None else dataclasses.replace(e, rank=0) for e in placed]
            got = await index.unplaced(board, asked)
            assert got == expected
            assert [e.key if e else None for e in got] == [e.key if e else None for e in expected]
        finally:
            await index.close()

    asyncio.run(check())


async def test_unknown_board_and_user(index: RankIndex) -> None:
    board = fresh_board()
    assert await index.entry(board, "u") is None
    assert await index.page(board, 1, 10) == []
    assert await index.count(board) == 0
    assert await index.position(board, "u") is None
    assert await index.newest(board, "u") is None
    assert await index.positions(board, ["u", "v"]) == [None, None]
    assert await index.unplaced(board, ["u", "v"]) == [None, None]


async def test_positions_are_each_users_position_read_at_once(index: RankIndex) -> None:
    board = fresh_board()
    n = board.name
    await index.apply(board, [Total(n, "u1", 10, 5, 1, LogPosition(0, 5)), Total(n, "u2", 4, 3, 1, LogPosition(1, 3))])
    await index.apply(board, [Total(n, "u2", 0, 4, 1, LogPosition(1, 7), removed=True)])  # a removal keeps its position
    assert await index.positions(board, ["u2", "nobody", "u1"]) == [LogPosition(1, 7), None, LogPosition(0, 5)]
    assert await index.positions(board, []) == []


async def test_apply_reports_what_was_newer(index: RankIndex) -> None:
    board = fresh_board()
    v2 = Total(board.name, "u", 7, 2, 1, LogPosition(0, 2))
    assert await index.apply(board, [v2]) == [v2]
    await index.apply(board, [Total(board.name, "u", 1, 1, 1, LogPosition(0, 1))])  # stale: ignored
    entry = await index.entry(board, "u")
    assert entry is not None and entry.score == 7


async def test_repair_forces_totals_whatever_the_versions(index: RankIndex) -> None:
    board = fresh_board()
    n = board.name
    await index.apply(board, [Total(n, "u1", 10, 5, 1, LogPosition(0, 5)), Total(n, "u2", 4, 3, 1, LogPosition(0, 3))])
    await index.apply(board, [Total(n, "u3", 7, 1, 1, LogPosition(0, 1))])
    await index.repair(
        board,
        {
            "u1": Total(n, "u1", 1, 2, 1, LogPosition(0, 2)),  # older than the index's: forced all the same
            "u2": None,  # unknown to the store: forgotten
            "u3": Total(n, "u3", 0, 2, 1, LogPosition(0, 9), removed=True),
            "u4": Total(n, "u4", 9, 1, 1, LogPosition(0, 4)),
        },
    )
    assert [(e.rank, e.user_id, e.score) for e in await index.page(board, 1, 10)] == [(1, "u4", 9), (2, "u1", 1)]
    assert await index.count(board) == 2
    assert await index.position(board, "u2") is None
    assert await index.position(board, "u3") == LogPosition(0, 9)
    # Versions go on from the repaired ones: the next change is newer and applies.
    await index.apply(board, [Total(n, "u1", 20, 3, 2, LogPosition(0, 3)), Total(n, "u2", 1, 1, 1, LogPosition(0, 1))])
    assert [(e.user_id, e.score) for e in await index.page(board, 1, 10)] == [("u1", 20), ("u4", 9), ("u2", 1)]
