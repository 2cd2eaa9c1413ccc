"""A cohort's reads (usecases/cohorts.py) rank its members exactly as a plain reference does
(a dict of the members' totals, sorted and numbered by hand) under every tie policy, with
ties, subscores, hidden and removed members; and they cost the cohort, never the board: the
embedded index, counted, is asked for the cohort's members once and for nothing else, on a
board where nearly everyone is outside the cohort; the live stream reads the cohort's totals
only for a frame with a member's change. The full cohort's member list is kept a moment; one
with a free seat is read each time."""

from __future__ import annotations

import asyncio
import dataclasses
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from podium.domain.boards import Board, Order, Tie
from podium.domain.totals import LogPosition, Total
from podium.index.memory import MemoryRankIndex
from podium.live.base import Applied
from podium.live.memory import MemoryLiveHub
from podium.usecases.cohorts import Cohorts, KeptMembers
from podium.usecases.live_session import LiveSession
from podium.usecases.standings import Standings


class ListedCohorts:
    """The cohort store's reads over a dict (cohort → members), counting the member reads."""

    def __init__(self, cohorts: dict[int, list[str]]) -> None:
        self.cohorts = cohorts
        self.member_reads = 0

    async def members(self, board: str, cohort: int) -> list[str]:
        self.member_reads += 1
        return list(self.cohorts.get(cohort, []))

    async def cohort_of(self, board: str, user_id: str) -> int | None:
        return next((c for c, users in self.cohorts.items() if user_id in users), None)

    async def drop(self, board: str) -> None:
        self.cohorts.clear()


class CountedIndex:
    """The embedded index, counting each read by name and the users it was asked about."""

    def __init__(self, inner: MemoryRankIndex) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()
        self.users_asked: list[str] = []

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        method = getattr(self.inner, name)

        async def counted(*args: Any) -> Any:
            self.calls[name] += 1
            if len(args) > 1 and isinstance(args[1], list):  # (board, user ids)
                self.users_asked += args[1]
            return await method(*args)

        return counted


def total(board: Board, user: str, score: int, subscore: int = 0, reached: int = 1, state: str = "ranked") -> Total:
    return Total(
        board.name,
        user,
        score,
        1,
        reached,
        LogPosition(0, 1),
        subscore=subscore,
        removed=state == "removed",
        hidden=state == "hidden",
    )


def reference(board: Board, totals: Sequence[Total], viewer: str | None) -> list[tuple[int, str, int, int]]:
    """The members ranked by hand: better total, then better subscore (where the board has
    one), then who reached it first, then user id; numbered as the tie policy says."""
    shown = [t for t in totals if not t.removed and (not t.hidden or t.user_id == viewer)]
    total_sign = -1 if board.order is Order.DESC else 1
    sub_sign = 0 if board.subscore_order is None else -1 if board.subscore_order is Order.DESC else 1
    shown.sort(key=lambda t: (total_sign * t.total, sub_sign * t.subscore, t.reached_at_us, t.user_id))

    def pair(t: Total) -> tuple[int, int]:
        return t.total, t.subscore if board.subscore_order is not None else 0

    out = []
    for i, t in enumerate(shown):
        better = [u for u in shown[:i] if pair(u) != pair(t)]
        if board.tie is Tie.UNIQUE:
            rank = i + 1
        elif board.tie is Tie.COMPETITION:
            rank = len(better) + 1
        else:
            rank = len({pair(u) for u in better}) + 1
        out.append((rank, t.user_id, t.total, t.subscore))
    return out


@st.composite
def cohorts_on_boards(draw: st.DrawFn) -> tuple[Board, list[Total], list[Total], str | None]:
    """A board, its cohort's members' totals (ties, subscores, hidden and removed ones, a
    member with no total yet), totals of users outside the cohort, and who reads."""
    board = Board(
        "league",
        draw(st.sampled_from(list(Order))),
        tie=draw(st.sampled_from(list(Tie))),
        subscore_order=draw(st.sampled_from([None, Order.ASC, Order.DESC])),
        cohort_size=40,
    )
    subscores = st.integers(0, 2) if board.subscore_order is not None else st.just(0)  # as the db-worker writes
    members: list[Total] = []
    for i in range(draw(st.integers(1, 25))):
        state = draw(st.sampled_from(["ranked", "ranked", "ranked", "hidden", "removed", "none"]))
        if state == "none":  # placed, its first total not yet in the index
            continue
        score, subscore = draw(st.integers(-3, 3)), draw(subscores)
        members.append(total(board, f"m{i}", score, subscore, draw(st.integers(1, 4)), state))
    outsiders = [
        total(board, f"o{i}", draw(st.integers(-3, 3)), draw(subscores), draw(st.integers(1, 4)))
        for i in range(draw(st.integers(0, 15)))
    ]
    viewer = draw(st.sampled_from([None, *(t.user_id for t in members)]))
    return board, members, outsiders, viewer


@settings(max_examples=300, deadline=None)
@given(case=cohorts_on_boards())
def test_a_cohort_ranks_as_the_reference_does(case: tuple[Board, list[Total], list[Total], str | None]) -> None:
    board, members, outsiders, viewer = case
    index = MemoryRankIndex()
    index.apply_now(board, [*members, *outsiders])
    placed = sorted({t.user_id for t in members} | {"m_unscored"})
    cohorts = Cohorts(ListedCohorts({1: placed}), Standings(index))

    view = asyncio.run(cohorts.view(board, 1, viewer=viewer))

    assert [(e.rank, e.user_id, e.score, e.subscore) for e in view.entries] == reference(board, members, viewer)
    assert view.members == frozenset(placed)


async def test_a_cohort_read_touches_only_its_members_on_a_big_board() -> None:
    board = Board("big", tie=Tie.COMPETITION, subscore_order=Order.DESC, cohort_size=50)
    inner = MemoryRankIndex()
    inner.apply_now(board, [total(board, f"o{i}", i % 97, i % 3, i) for i in range(20_000)])
    cohort = [f"m{i}" for i in range(50)]
    inner.apply_now(board, [total(board, u, i % 7, i % 2, i) for i, u in enumerate(cohort)])
    index = CountedIndex(inner)
    cohorts = Cohorts(ListedCohorts({1: cohort}), Standings(index))  # type: ignore[arg-type]

    view = await cohorts.view(board, 1)

    assert view.count() == 50
    # One lookup of the 50 members, and no read of the board around them: no page, no count,
    # no place of each tie group among the 20,050 users.
    assert index.calls == Counter({"unplaced": 1})
    assert sorted(index.users_asked) == sorted(cohort)


async def test_a_full_cohorts_members_are_kept_a_moment_and_a_filling_ones_never() -> None:
    board = Board("kept", cohort_size=2)
    index = MemoryRankIndex()
    index.apply_now(board, [total(board, u, 5) for u in ("a", "b", "c")])
    store = ListedCohorts({1: ["a", "b"], 2: ["c"]})
    cohorts = Cohorts(store, Standings(index))

    for _ in range(3):
        await cohorts.view(board, 1)
    assert store.member_reads == 1  # full: read once, then kept
    for _ in range(3):
        await cohorts.view(board, 2)
    assert store.member_reads == 4  # a seat free: the next user placed must show at once

    store.cohorts[2].append("d")
    index.apply_now(board, [total(board, "d", 9)])
    assert [e.user_id for e in (await cohorts.view(board, 2)).entries] == ["d", "c"]

    await cohorts.drop(board)  # the board deleted here: nothing kept of it
    store.cohorts[1] = ["a", "c"]
    assert {e.user_id for e in (await cohorts.view(board, 1)).entries} == {"a", "c"}


def test_kept_members_expire_and_the_least_recently_read_go_first() -> None:
    now = [0.0]
    kept = KeptMembers(2.0, size=2, clock=lambda: now[0])
    kept.put("b", 1, ["x", "y"], 2)
    kept.put("b", 2, ["z"], 2)  # not full: not kept
    assert kept.get("b", 1) == ["x", "y"] and kept.get("b", 2) is None
    kept.put("b", 3, ["p", "q"], 2)
    kept.get("b", 1)
    kept.put("b", 4, ["r", "s"], 2)  # over the size: cohort 3, read least lately, goes
    assert kept.get("b", 3) is None and kept.get("b", 1) == ["x", "y"]
    now[0] = 2.0
    assert kept.get("b", 1) is None and kept.get("b", 4) is None


async def test_the_live_stream_reads_a_cohorts_totals_only_for_its_members_changes() -> None:
    board = Board("busy", cohort_size=3)
    inner = MemoryRankIndex()
    inner.apply_now(board, [total(board, u, 5) for u in ("a", "b", "x", "y")])
    index = CountedIndex(inner)
    store = ListedCohorts({1: ["a", "b"], 2: ["x", "y"]})  # cohort 1 has a free seat: read each frame
    standings = Standings(index)  # type: ignore[arg-type]
    hub = MemoryLiveHub()
    session = LiveSession(
        hub, standings, None, board, user_id=None, top=5, max_fps=1000, cohort=(Cohorts(store, standings), 1)
    )
    frames = session.frames()
    snapshot = await anext(frames)
    assert [e["user_id"] for e in snapshot["top"]] == ["a", "b"]
    index.calls.clear()
    next_frame = asyncio.ensure_future(anext(frames))

    read_before = store.member_reads
    await hub.publish(board.name, [Applied("x", 50, 1, 2), Applied("y", 40, 2, 2)])  # cohort 2's
    for _ in range(1000):  # until the session has looked at them: its member list read
        if store.member_reads > read_before:
            break
        await asyncio.sleep(0.001)
    assert store.member_reads > read_before and index.calls == Counter()  # no frame, no totals read

    inner.apply_now(board, [dataclasses.replace(total(board, "b", 9), version=2)])
    await hub.publish(board.name, [Applied("b", 9, 3, 2)])
    frame = await asyncio.wait_for(next_frame, 5)
    assert [(c["user_id"], c["rank"]) for c in frame["changes"]] == [("b", 1)]
    assert index.calls == Counter({"unplaced": 1})  # the cohort, read once for the frame
    await frames.aclose()
