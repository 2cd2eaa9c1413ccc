"""Issue 17's properties of the reads, for random boards of every setting (order,
operator, tie policy, subscore order, windows; negative and saturated totals), in both
profiles:

- walking `top` with `next_cursor` at page sizes 1, 2, 3 and 100 gives exactly the walk by
  `offset` at that size, which is the whole board;
- `lookup` in board order gives `top`'s entries restricted to the users looked up;
- a new user whose total is `score-for-rank`'s `needed` is ranked there or better, and one
  whose total is one worse is not.

The distributed profile runs a few examples only: each submission there goes through
Kafka, Cassandra and Debezium."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from tests.conftest import BoardNames

MAX = 2**53 - 1
VALUES = st.integers(-3, 3) | st.sampled_from([MAX, -MAX])  # few values: many ties; and the edges
PAGE_SIZES = (1, 2, 3, 100)
EXAMPLES = {"embedded": 100, "distributed": 10}
_boards = itertools.count()


@dataclass(frozen=True)
class Case:
    settings: dict[str, Any]
    scores: list[dict[str, Any]]
    looked_up: list[str]
    rank: int
    subscore: int | None  # score-for-rank's subscore= (None: not sent, so 0)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    subscore_order = draw(st.sampled_from([None, "desc", "asc"]))
    board = {
        "order": draw(st.sampled_from(["desc", "asc"])),
        "operator": draw(st.sampled_from(["incr", "decr", "best", "set"])),
        "tie": draw(st.sampled_from(["unique", "competition", "dense"])),
        "subscore_order": subscore_order,
        "windows": draw(st.sampled_from([["all"], ["all", "day"]])),
    }
    users = [f"u{i}" for i in range(draw(st.integers(1, 12)))]  # past a bucket of 8 (tests/distributed/stack.py)
    scores = []
    for user in draw(st.lists(st.sampled_from(users), max_size=30)):
        item: dict[str, Any] = {"user_id": user, "score": draw(VALUES)}
        if subscore_order is not None and draw(st.booleans()):
            item["subscore"] = draw(VALUES)
        scores.append(item)
    looked_up = draw(st.lists(st.sampled_from([*users, "ghost"]), min_size=1, unique=True))
    subscore = draw(st.none() | VALUES) if subscore_order is not None else None
    return Case(board, scores, looked_up, draw(st.integers(1, len(users) + 2)), subscore)


def get(client: TestClient, path: str) -> dict[str, Any]:
    answer = client.get(path)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def offset_walk(client: TestClient, top: str, size: int) -> list[dict[str, Any]]:
    walked: list[dict[str, Any]] = []
    while True:
        page = get(client, f"{top}&limit={size}&offset={len(walked)}")["entries"]
        walked += page
        if len(page) < size:
            return walked


def cursor_walk(client: TestClient, top: str, size: int, users: int) -> list[dict[str, Any]]:
    page = get(client, f"{top}&limit={size}")
    walked = page["entries"]
    for _ in range(users // size + 1):  # bounded: one page more than the users fill
        if page["next_cursor"] is None:
            return list(walked)
        page = get(client, f"{top}&limit={size}&cursor={page['next_cursor']}")
        walked += page["entries"]
    raise AssertionError(f"the cursor walk at {size} a page did not end")


def submit_total(client: TestClient, board: str, settings: dict[str, Any], user: str, total: int, sub: int) -> int:
    """Give a new user `total` (and subscore `sub`) and answer its rank. A first `decr`
    submission subtracts from nothing, so it carries the opposite."""
    sign = -1 if settings["operator"] == "decr" else 1
    item: dict[str, Any] = {"user_id": user, "score": sign * total}
    if settings["subscore_order"] is not None:
        item["subscore"] = sign * sub
    answer = client.post(f"/v1/boards/{board}/scores?wait=true", json=item)
    assert answer.status_code == 200, answer.text
    assert answer.json()["score"] == total
    rank: int = get(client, f"/v1/boards/{board}/users/{user}?window=all")["rank"]
    return rank


def check_board(client: TestClient, board: str, case: Case) -> None:
    assert client.put(f"/v1/boards/{board}", json=case.settings).status_code == 201
    if case.scores:
        answer = client.post(f"/v1/boards/{board}/scores/batch?wait=true", json={"scores": case.scores})
        assert answer.status_code == 200, answer.text
    for window in case.settings["windows"]:
        top = f"/v1/boards/{board}/top?window={window}"
        whole = get(client, f"{top}&limit=1000")["entries"]
        for size in PAGE_SIZES:
            by_offset = offset_walk(client, top, size)
            assert by_offset == whole, size
            assert cursor_walk(client, top, size, len(whole)) == by_offset, size
        wanted = set(case.looked_up)
        body = {"user_ids": case.looked_up, "order": "board"}
        answer = client.post(f"/v1/boards/{board}/users/lookup?window={window}", json=body)
        assert answer.status_code == 200, answer.text
        assert answer.json()["entries"] == [e for e in whole if e["user_id"] in wanted]
    check_needed(client, board, case)


def check_needed(client: TestClient, board: str, case: Case) -> None:
    asked = f"/v1/boards/{board}/score-for-rank?rank={case.rank}&window=all"
    if case.subscore is not None:
        asked += f"&subscore={case.subscore}"
    found = get(client, asked)
    whole = get(client, f"/v1/boards/{board}/top?window=all&limit=1000")["entries"]
    if case.settings["tie"] != "dense":  # the user in that place, counting everyone once
        assert found["score"] == (whole[case.rank - 1]["score"] if case.rank <= len(whole) else None)
    needed, sub = found["needed"], case.subscore or 0
    desc = case.settings["order"] == "desc"
    if needed is None:  # no total takes the rank: not even the best one
        assert found["beat"] is None
        assert submit_total(client, board, case.settings, "best", MAX if desc else -MAX, sub) > case.rank
        return
    # The one worse first: it sorts below the one with `needed`, so cannot change its rank.
    worse = needed - 1 if desc else needed + 1
    if -MAX <= worse <= MAX:
        assert submit_total(client, board, case.settings, "worse", worse, sub) > case.rank, found
    assert submit_total(client, board, case.settings, "needed", needed, sub) <= case.rank, found


def test_cursor_lookup_and_needed_agree_with_top(client: TestClient, b: BoardNames, profile: str) -> None:
    @settings(
        max_examples=EXAMPLES[profile],
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(case=cases())
    def check(case: Case) -> None:
        note(repr(case))  # hypothesis prints a composite's value as nothing
        check_board(client, f"{b.paging}-{next(_boards)}", case)

    check()
