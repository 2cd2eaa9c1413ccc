"""One tie rule on every surface that shows a rank, in both profiles (issue 18): the top,
a user, around, lookup, range, score-for-rank, the friends board's `rank` and
`global_rank`, the live stream's `top`, `me`, `friends`, changes and events, and the
export all number equals as `GET .../users/{u}` does, under the board's `tie` and
`subscore_order`. Friend lists are global, so every user id carries the board's name."""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.conftest import BoardNames
from tests.integration.live_clients import LiveState
from tests.integration.test_api import make_board

_boards = itertools.count()


def put_friends(client: TestClient, user: str, friends: list[str]) -> None:
    answer = client.put(f"/v1/users/{user}/friends", json={"friends": friends})
    assert answer.status_code == 200, answer.text


def submit_all(client: TestClient, board: str, scores: list[tuple[str, int, int | None]]) -> None:
    """One batch, in this order (who reached a total first is ahead among equals)."""
    items = [{"user_id": u, "score": s} | ({"subscore": sub} if sub is not None else {}) for u, s, sub in scores]
    answer = client.post(f"/v1/boards/{board}/scores/batch?wait=true", json={"scores": items})
    assert answer.status_code == 200, answer.text
    assert all(r is not None and "rank" in r for r in answer.json()["results"]), answer.text


def friends_board(client: TestClient, board: str, user: str, want: set[str]) -> list[dict[str, Any]]:
    """The user's friends board once it lists `want` (the fan-out may trail the rank index)."""
    deadline = time.monotonic() + 20
    while True:
        entries: list[dict[str, Any]] = client.get(f"/v1/boards/{board}/users/{user}/friends").json()["entries"]
        if {e["user_id"] for e in entries} == want or time.monotonic() > deadline:
            return entries
        time.sleep(0.02)


def receive_until(ws: Any, state: LiveState, user: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not state.saw(user):
        assert time.monotonic() < deadline, "the live stream stopped short"
        state.apply(ws.receive_json())


def ranks_of(entries: list[dict[str, Any]], field: str = "rank") -> dict[str, int]:
    return {e["user_id"]: e[field] for e in entries}


# The reproductions.


def test_a_friends_board_on_a_competition_board_shares_ranks(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.t, tie="competition")
    a, bb, c, d, e = (f"{u}-{b.t}" for u in "abcde")
    put_friends(client, e, [a, bb, d])
    submit_all(client, b.t, [(a, 10, None), (bb, 10, None), (c, 10, None), (d, 5, None), (e, 5, None)])
    top = client.get(f"/v1/boards/{b.t}/top").json()["entries"]
    assert ranks_of(top) == {a: 1, bb: 1, c: 1, d: 4, e: 4}
    board = friends_board(client, b.t, e, {a, bb, d, e})
    assert ranks_of(board, "global_rank") == {a: 1, bb: 1, d: 4, e: 4}
    assert [x["rank"] for x in board] == [1, 1, 3, 3]


def test_the_live_stream_on_a_dense_board_shares_ranks(client: TestClient, b: BoardNames) -> None:
    make_board(client, b.t, tie="dense")
    a, bb, c, d, e, f = (f"{u}-{b.t}" for u in "abcdef")
    put_friends(client, e, [a, bb, d])
    submit_all(client, b.t, [(a, 10, None), (bb, 10, None), (c, 10, None), (d, 5, None), (e, 5, None)])
    friends_board(client, b.t, e, {a, bb, d, e})
    with client.websocket_connect(f"/v1/boards/{b.t}/live?user_id={e}&top=10") as ws:
        state = LiveState()
        state.apply(ws.receive_json())
        assert [x["rank"] for x in state.top] == [1, 1, 1, 2, 2]
        assert state.me is not None and state.me["rank"] == 2
        assert ranks_of(state.friends or [], "global_rank") == {a: 1, bb: 1, d: 2, e: 2}
        submit_all(client, b.t, [(f, 7, None)])
        receive_until(ws, state, f)
    assert [(x["user_id"], x["rank"]) for x in state.top][3:] == [(f, 2), (d, 3), (e, 3)]
    assert [x["rank"] for x in state.top] == [1, 1, 1, 2, 3, 3]
    assert state.me is not None and state.me["rank"] == 3
    assert [(c["user_id"], c["rank"]) for c in state.frames[-1]["changes"]] == [(f, 2)]


# Random boards: every surface against `GET .../users/{u}`.


@dataclass(frozen=True)
class Case:
    tie: str
    order: str
    subscore_order: str | None
    scores: list[tuple[int, int]]  # per user, in submission order: (score, subscore)
    friends: list[int]  # the viewer's (user 0's) friends, by index
    mover: int  # a friend (or the viewer) who then jumps to `jump`
    jump: int


@st.composite
def cases(draw: st.DrawFn) -> Case:
    subscore_order = draw(st.sampled_from([None, "asc", "desc"]))
    n = draw(st.integers(2, 7))
    scores = [(draw(st.integers(0, 3)), draw(st.integers(0, 2)) if subscore_order is not None else 0) for _ in range(n)]
    friends = draw(st.lists(st.integers(1, n - 1), unique=True, max_size=n - 1))
    return Case(
        tie=draw(st.sampled_from(["unique", "competition", "dense"])),
        order=draw(st.sampled_from(["desc", "asc"])),
        subscore_order=subscore_order,
        scores=scores,
        friends=friends,
        mover=draw(st.sampled_from([0, *friends])),
        jump=draw(st.integers(0, 4)),
    )


def reference_ranks(case: Case, order: list[str], pairs: dict[str, tuple[int, int]]) -> list[int]:
    """Ranks down `order` (the board's, as the top lists it) by the tie policy alone."""
    out: list[int] = []
    for i, user in enumerate(order):
        if i > 0 and case.tie != "unique" and pairs[user] == pairs[order[i - 1]]:
            out.append(out[-1])
        else:
            out.append(i + 1 if case.tie != "dense" or i == 0 else out[-1] + 1)
    return out


class Surfaces:
    """Reads every surface of one board and checks it against `GET .../users/{u}`."""

    def __init__(self, client: TestClient, board: str, case: Case, users: list[str]) -> None:
        self.client, self.board, self.case, self.users = client, board, case, users

    def user_ranks(self) -> dict[str, int]:
        got = {}
        for u in self.users:
            answer = self.client.get(f"/v1/boards/{self.board}/users/{u}")
            assert answer.status_code == 200, answer.text
            got[u] = answer.json()["rank"]
        return got

    def check(self, viewer: str, friends: set[str]) -> dict[str, int]:
        client, board = self.client, self.board
        want = self.user_ranks()
        top = client.get(f"/v1/boards/{board}/top", params={"limit": 100}).json()["entries"]
        assert sorted(ranks_of(top)) == sorted(self.users)
        pairs = {e["user_id"]: (e["score"], e["subscore"]) for e in top}
        # The order is the board's: better totals (then subscores) first.
        sign = -1 if self.case.order == "desc" else 1
        subsign = {"desc": -1, "asc": 1, None: 0}[self.case.subscore_order]
        keys = [(sign * s, subsign * sub) for s, sub in pairs.values()]
        assert keys == sorted(keys)
        assert [want[e["user_id"]] for e in top] == reference_ranks(self.case, [e["user_id"] for e in top], pairs)
        assert ranks_of(top) == want
        for offset in range(len(top)):  # a page starting anywhere in a run of equals
            page = client.get(f"/v1/boards/{board}/top", params={"limit": 2, "offset": offset}).json()["entries"]
            assert all(want[e["user_id"]] == e["rank"] for e in page)
        for u in self.users:
            around = client.get(f"/v1/boards/{board}/users/{u}/around", params={"radius": 2}).json()["entries"]
            assert u in ranks_of(around) and all(want[e["user_id"]] == e["rank"] for e in around)
            at = client.get(f"/v1/boards/{board}/score-for-rank", params={"rank": want[u]}).json()
            assert at["score"] == pairs[u][0], (u, at)
            exported = client.get(f"/v1/users/{u}/export").json()["entries"]
            assert [e["rank"] for e in exported if e["board"] == board] == [want[u]]
        looked = client.post(f"/v1/boards/{board}/users/lookup", json={"user_ids": self.users}).json()["entries"]
        assert ranks_of(looked) == want
        scores = sorted({s for s, _ in pairs.values()})
        for low, high in [(scores[0], scores[-1]), (scores[len(scores) // 2], scores[-1])]:
            ranged = client.get(f"/v1/boards/{board}/range", params={"min": low, "max": high}).json()["entries"]
            assert ranged and all(want[e["user_id"]] == e["rank"] for e in ranged)
        board_entries = friends_board(client, board, viewer, friends | {viewer})
        self.check_friends(board_entries, want, pairs)
        return want

    def check_friends(
        self, entries: list[dict[str, Any]], want: dict[str, int], pairs: dict[str, tuple[int, int]]
    ) -> None:
        assert ranks_of(entries, "global_rank") == {e["user_id"]: want[e["user_id"]] for e in entries}
        listed = [e["user_id"] for e in entries]
        assert listed == sorted(listed, key=lambda u: want[u])  # the board's order, thinned
        assert [e["rank"] for e in entries] == reference_ranks(self.case, listed, pairs)


def live_check(surfaces: Surfaces, viewer: str, friends: set[str], mover: str, jump: int) -> None:
    """The viewer's live stream: the snapshot, then the delta after `mover` submits `jump`,
    each rank as `GET .../users/{u}` answers it at that moment (the pipeline is quiet)."""
    client, board = surfaces.client, surfaces.board
    top_n = 3
    with client.websocket_connect(f"/v1/boards/{board}/live?user_id={viewer}&top={top_n}") as ws:
        state = LiveState()
        state.apply(ws.receive_json())
        want = surfaces.user_ranks()
        before = dict(want)
        assert all(want[e["user_id"]] == e["rank"] for e in state.top)
        assert state.me is not None and state.me["rank"] == want[viewer]
        listed = client.get(f"/v1/boards/{board}/users/{viewer}/friends", params={"limit": top_n}).json()
        assert state.friends == listed["entries"]
        submit_all(client, board, [(mover, jump, 0 if surfaces.case.subscore_order else None)])
        receive_until(ws, state, mover)
        deadline = time.monotonic() + 5  # the friends board follows a friend's change in the same frame
        want = surfaces.user_ranks()
        while state.friends is None or ranks_of(state.friends, "global_rank") != {
            e["user_id"]: want[e["user_id"]] for e in state.friends
        }:
            assert time.monotonic() < deadline, state.friends
            state.apply(ws.receive_json())
    everyone = client.get(f"/v1/boards/{board}/top", params={"limit": 100}).json()["entries"]
    top = everyone[:top_n]
    assert state.top == top and all(want[e["user_id"]] == e["rank"] for e in top)
    assert state.me is not None and state.me["rank"] == want[viewer]
    changes = [c for f in state.frames if f["type"] == "delta" for c in f["changes"]]
    assert [(c["user_id"], c["rank"]) for c in changes] == [(mover, want[mover])]
    # A friend passes the viewer when it was not ahead (behind, or level under a shared rank)
    # and now is; the viewer enters the top when its rank comes within it.
    passed = [
        {"type": "friend_passed_you", "friend": mover, "friend_rank": want[mover], "rank": want[viewer]}
        for _ in [mover]
        if mover in friends and before[mover] >= before[viewer] and want[mover] < want[viewer]
    ]
    entered = [{"type": "entered_top", "rank": want[viewer], "top": top_n}] * (want[viewer] <= top_n < before[viewer])
    assert [e for e in state.events if e["type"] == "friend_passed_you"] == passed
    assert [e for e in state.events if e["type"] == "entered_top"] == entered
    pairs = {e["user_id"]: (e["score"], e["subscore"]) for e in everyone}
    surfaces.check_friends(state.friends or [], want, pairs)


def run_case(client: TestClient, case: Case) -> None:
    name = f"ties{next(_boards)}-{time.monotonic_ns() % 10**9}"
    board_settings: dict[str, Any] = {"tie": case.tie, "order": case.order, "operator": "set"}
    if case.subscore_order is not None:
        board_settings["subscore_order"] = case.subscore_order
    make_board(client, name, **board_settings)
    users = [f"u{i}-{name}" for i in range(len(case.scores))]
    viewer, friends = users[0], {users[i] for i in case.friends}
    put_friends(client, viewer, sorted(friends))
    subscored = case.subscore_order is not None
    submit_all(
        client, name, [(u, s, sub if subscored else None) for u, (s, sub) in zip(users, case.scores, strict=True)]
    )
    surfaces = Surfaces(client, name, case, users)
    surfaces.check(viewer, friends)
    moved = case.scores[case.mover][0]
    live_check(surfaces, viewer, friends, users[case.mover], case.jump if case.jump != moved else moved + 1)
    surfaces.check(viewer, friends)


def test_every_surface_numbers_ranks_as_a_users_own_read(client: TestClient, profile: str) -> None:
    # The distributed pipeline takes a second or so a submission: a few boards there.
    examples = 25 if profile == "embedded" else 3

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck), database=None)
    @given(case=cases())
    def check(case: Case) -> None:
        run_case(client, case)

    check()


# A banned user's own view: itself where it would be, everyone as if it were still there.


def policy_ranks(tie: str, scores: list[tuple[str, int]]) -> dict[str, int]:
    """Ranks of users listed best first with their scores, under `tie`."""
    case = Case(tie, "desc", None, [], [], 0, 0)
    order = [u for u, _ in scores]
    return dict(zip(order, reference_ranks(case, order, {u: (s, 0) for u, s in scores}), strict=True))


@pytest.mark.parametrize("tie", ["unique", "competition", "dense"])
@pytest.mark.parametrize("banned", ["c", "d"])  # alone with its total; level with another
def test_a_banned_users_own_views_share_ranks_as_if_it_were_there(
    client: TestClient, b: BoardNames, tie: str, banned: str
) -> None:
    make_board(client, b.t, tie=tie)
    scores = [(f"{u}-{b.t}", s) for u, s in [("a", 10), ("b", 10), ("c", 7), ("d", 5), ("e", 5), ("f", 3)]]
    viewer = f"{banned}-{b.t}"
    friends = [f"{u}-{b.t}" for u in "aef"]
    put_friends(client, viewer, friends)
    submit_all(client, b.t, [(u, s, None) for u, s in scores])
    friends_board(client, b.t, viewer, {*friends, viewer})
    answer = client.post(f"/v1/boards/{b.t}/users/{viewer}/hide")
    assert answer.status_code == 200, answer.text
    as_if_there = policy_ranks(tie, scores)
    seen_by_others = policy_ranks(tie, [(u, s) for u, s in scores if u != viewer])

    assert ranks_of(client.get(f"/v1/boards/{b.t}/top").json()["entries"]) == seen_by_others
    assert client.get(f"/v1/boards/{b.t}/users/{viewer}").json()["rank"] == as_if_there[viewer]
    around = client.get(f"/v1/boards/{b.t}/users/{viewer}/around", params={"radius": 6}).json()["entries"]
    assert ranks_of(around) == as_if_there
    own_board = [e for u, e in as_if_there.items() if u in {*friends, viewer}]
    entries = client.get(f"/v1/boards/{b.t}/users/{viewer}/friends").json()["entries"]
    listed = [e["user_id"] for e in entries]
    assert listed == [u for u in as_if_there if u in {*friends, viewer}]
    assert [e["global_rank"] for e in entries] == own_board
    assert [e["rank"] for e in entries] == list(policy_ranks(tie, [(u, s) for u, s in scores if u in listed]).values())
    with client.websocket_connect(f"/v1/boards/{b.t}/live?user_id={viewer}&top=10") as ws:
        snapshot = ws.receive_json()
    assert snapshot["me"]["rank"] == as_if_there[viewer]
    assert snapshot["friends"] == entries
    assert ranks_of(snapshot["top"]) == seen_by_others
