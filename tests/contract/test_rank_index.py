"""The rank index port's contract: every adapter answers like the plain reference model,
whatever order, duplicates or stale versions the change feed delivers."""

from __future__ import annotations

import asyncio

from hypothesis import given, settings
from hypothesis import strategies as st

from podium.domain.boards import Board, Order
from podium.domain.ordering import sort_key
from podium.domain.totals import LogPosition, Total
from podium.index.memory import MemoryRankIndex

USERS = [f"u{i}" for i in range(12)]


@st.composite
def histories(draw: st.DrawFn) -> tuple[Order, list[Total]]:
    """Each user's versions in order; then delivered shuffled, with duplicates."""
    order = draw(st.sampled_from(list(Order)))
    totals = []
    for user in draw(st.lists(st.sampled_from(USERS), unique=True, max_size=len(USERS))):
        versions = draw(st.integers(1, 4))
        for v in range(1, versions + 1):
            totals.append(
                Total(
                    "b",
                    user,
                    draw(st.integers(-5, 5)),
                    v,
                    draw(st.integers(0, 3)),
                    LogPosition(0, v),
                    removed=draw(st.booleans()) and v > 1,
                )
            )
    delivered = draw(st.permutations(totals + draw(st.lists(st.sampled_from(totals), max_size=5)) if totals else []))
    return order, delivered


def expected(order: Order, delivered: list[Total]) -> list[tuple[int, str, int]]:
    newest: dict[str, Total] = {}
    for t in delivered:
        if t.user_id not in newest or t.version > newest[t.user_id].version:
            newest[t.user_id] = t
    live = sorted(
        (t for t in newest.values() if not t.removed),
        key=lambda t: sort_key(order, t.total, t.reached_at_us, t.user_id),
    )
    return [(i + 1, t.user_id, t.total) for i, t in enumerate(live)]


@settings(max_examples=300, deadline=None)
@given(histories(), st.integers(1, 4))
def test_index_equals_reference(history: tuple[Order, list[Total]], chunk: int) -> None:
    order, delivered = history

    async def check() -> None:
        index = MemoryRankIndex()
        board = Board("b", order)
        for i in range(0, len(delivered), chunk):
            await index.apply(board, delivered[i : i + chunk])
        want = expected(order, delivered)
        got = [(e.rank, e.user_id, e.score) for e in await index.page("b", 1, 100)]
        assert got == want
        assert await index.count("b") == len(want)
        for rank, user, score in want:
            entry = await index.entry("b", user)
            assert entry is not None and (entry.rank, entry.score) == (rank, score)
        for first in range(1, len(want) + 2):
            page = await index.page("b", first, 3)
            assert [(e.rank, e.user_id, e.score) for e in page] == want[first - 1 : first + 2]

    asyncio.run(check())


async def test_unknown_board_and_user() -> None:
    index = MemoryRankIndex()
    assert await index.entry("b", "u") is None
    assert await index.page("b", 1, 10) == []
    assert await index.count("b") == 0
    assert await index.position("b", "u") is None
