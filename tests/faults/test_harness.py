"""The harness must itself be right: a checker that finds what is planted, a proxy
that really cuts after the server did the work, game servers that retry the same
key, and a report that shows every run."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import BoardNames
from tests.e2e.server import PodiumProcess, free_port
from tests.faults.check import Entry, Snapshot, StoredTotal, miscounts, rank_errors
from tests.faults.harness import (
    Ack,
    Checker,
    FaultProxy,
    FaultRow,
    LoadGenerator,
    Submission,
    expected_totals,
    sqlite_store_reader,
)
from tests.faults.proxy import _request_end
from tests.faults.report import append_row, load_rows, render, write_reliability


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PodiumProcess]:
    process = PodiumProcess(tmp_path_factory.mktemp("harness") / "data").start()
    try:
        yield process
    finally:
        process.stop()


def acks_of(*submissions: tuple[str, int, str]) -> list[Ack]:
    return [
        Ack(Submission(key, user, score), 1, time.monotonic(), i) for i, (user, score, key) in enumerate(submissions)
    ]


def send(server: PodiumProcess, board: str, acks: list[Ack]) -> None:
    for ack in acks:
        s = ack.submission
        body = {"user_id": s.user_id, "score": s.score, "key": s.key}
        assert httpx.post(f"{server.base_url}/v1/boards/{board}/scores", json=body).status_code == 202


def new_board(server: PodiumProcess, board: str, **settings: str) -> Checker:
    assert httpx.put(f"{server.base_url}/v1/boards/{board}", json=settings).status_code == 201
    return Checker(server.base_url, board, store_reader=sqlite_store_reader(server.data / "store.db"))


# -- the checker against a real server ----------------------------------------------


def test_checker_passes_an_exact_board_with_ties(server: PodiumProcess, b: BoardNames) -> None:
    acks = acks_of(("bob", 5, "k1"), ("ada", 5, "k2"), ("cy", 3, "k3"), ("cy", 3, "k4"), ("dee", 9, "k5"))
    with new_board(server, b.arena) as checker:
        send(server, b.arena, acks)
        result = checker.wait_and_check(acks, timeout_s=10, quiet_s=0.3)
        assert result.exact, result.summary()
        assert [e.user_id for e in checker.page()] == ["dee", "cy", "bob", "ada"]  # bob reached 5 first
        assert result.converge_s is not None and result.converge_s < 10


def test_checker_counts_a_planted_double_count(server: PodiumProcess, b: BoardNames) -> None:
    acks = acks_of(*[(f"u{i % 3}", 2, f"k{i}") for i in range(9)])
    with new_board(server, b.arena) as checker:
        send(server, b.arena, acks)
        send(server, b.arena, acks_of(("u1", 2, "not-acknowledged")))  # applied, but never acknowledged
        result = checker.wait_and_check(acks, timeout_s=1.5, quiet_s=0.3)
    assert (result.lost, result.doubled) == (0, 1)
    assert (result.store_lost, result.store_doubled) == (0, 1)
    assert result.wrong == {"u1": (6, 8)}
    assert not result.exact and result.converge_s is None


def test_checker_counts_a_planted_loss(server: PodiumProcess, b: BoardNames) -> None:
    acks = acks_of(*[(f"u{i % 3}", 4, f"k{i}") for i in range(9)])
    with new_board(server, b.arena) as checker:
        send(server, b.arena, acks[:-2])  # two acknowledged submissions the service never got
        result = checker.wait_and_check(acks, timeout_s=1.5, quiet_s=0.3)
    assert (result.lost, result.doubled) == (2, 0)
    assert (result.store_lost, result.store_doubled) == (2, 0)
    assert not result.exact


def test_checker_respects_the_boards_operator_and_order(server: PodiumProcess, b: BoardNames) -> None:
    acks = acks_of(("ada", 7, "k1"), ("ada", 3, "k2"), ("ada", 9, "k3"), ("bob", 4, "k4"))
    with new_board(server, b.golf, order="asc", operator="best") as checker:
        assert (checker.operator, checker.order) == ("best", "asc")
        send(server, b.golf, acks)
        result = checker.wait_and_check(acks, timeout_s=10, quiet_s=0.3)
        assert result.exact, result.summary()
        assert [(e.user_id, e.score) for e in checker.page()] == [("ada", 3), ("bob", 4)]


# -- the checker's pure parts ---------------------------------------------------------


def test_expected_totals_per_operator() -> None:
    acks = acks_of(("ada", 7, "a"), ("bob", 2, "b"), ("ada", 3, "c"), ("ada", 5, "d"))
    assert expected_totals(acks, "incr", "desc") == {"ada": 15, "bob": 2}
    assert expected_totals(acks, "best", "desc") == {"ada": 7, "bob": 2}
    assert expected_totals(acks, "best", "asc") == {"ada": 3, "bob": 2}
    assert expected_totals(acks, "set", "desc") == {"ada": 5, "bob": 2}


def test_miscounts_in_whole_submissions() -> None:
    acks = acks_of(*[("ada", 3, f"a{i}") for i in range(4)], *[("bob", 2, f"b{i}") for i in range(5)])
    expected = expected_totals(acks, "incr", "desc")  # ada 12, bob 10
    assert miscounts(acks, "incr", expected, expected) == (0, 0)
    assert miscounts(acks, "incr", expected, {"ada": 18, "bob": 4}) == (3, 2)
    assert miscounts(acks, "incr", expected, {"bob": 10}) == (4, 0)  # ada missing altogether
    assert miscounts(acks, "incr", expected, {"ada": 13, "bob": 10, "eve": 1}) == (0, 2)  # not whole: one each


def page_of(*rows: tuple[str, int]) -> list[Entry]:
    return [Entry(i + 1, user, score) for i, (user, score) in enumerate(rows)]


def snapshot(page: list[Entry], store: dict[str, StoredTotal] | None = None) -> Snapshot:
    entries: dict[str, Entry | None] = {e.user_id: e for e in page}
    arounds = {e.user_id: page[max(0, i - 1) : i + 2] for i, e in enumerate(page)}
    return Snapshot(len(page), page, entries, arounds, store)


def test_rank_errors_finds_every_kind_of_wrong_rank() -> None:
    good = page_of(("a", 9), ("b", 5), ("c", 5), ("d", 1))
    store = {"a": StoredTotal(9, 40), "b": StoredTotal(5, 10), "c": StoredTotal(5, 20), "d": StoredTotal(1, 5)}
    assert rank_errors(snapshot(good, store), "desc", 1) == []

    unsorted = page_of(("a", 9), ("d", 1), ("b", 5), ("c", 5))
    assert any("not sorted" in e for e in rank_errors(snapshot(unsorted), "desc", 1))
    assert any("not sorted" in e for e in rank_errors(snapshot(good), "asc", 1))

    ties_swapped = page_of(("a", 9), ("c", 5), ("b", 5), ("d", 1))  # c reached 5 after b
    assert any("store's" in e for e in rank_errors(snapshot(ties_swapped, store), "desc", 1))

    gap = [*good[:2], Entry(4, "c", 5)]
    assert any("ranks are not" in e for e in rank_errors(snapshot(gap), "desc", 1))

    wrong_entry = snapshot(good)
    wrong_entry.entries["b"] = Entry(3, "b", 5)
    assert any("user b: entry" in e for e in rank_errors(wrong_entry, "desc", 1))

    wrong_window = snapshot(good)
    wrong_window.arounds["c"] = good[0:3]
    assert any("user c: around" in e for e in rank_errors(wrong_window, "desc", 1))

    miscounted = snapshot(good)
    miscounted.users = 5
    assert any("counts 5 users" in e for e in rank_errors(miscounted, "desc", 1))


# -- the proxy -------------------------------------------------------------------------


def test_proxy_cuts_the_answer_after_the_server_did_the_work(server: PodiumProcess, b: BoardNames) -> None:
    assert httpx.put(f"{server.base_url}/v1/boards/{b.arena}", json={}).status_code == 201
    cut_at: list[int] = []
    with FaultProxy(server.port, cut_every=2) as proxy, httpx.Client(base_url=proxy.base_url, timeout=5) as client:
        proxy.on_cut = lambda: cut_at.append(proxy.requests)
        scores = f"/v1/boards/{b.arena}/scores"
        assert client.post(scores, json={"user_id": "ada", "score": 5}).status_code == 202
        with pytest.raises(httpx.RemoteProtocolError):
            client.post(scores, json={"user_id": "ada", "score": 7})
        assert client.get(f"/v1/boards/{b.arena}").status_code == 200  # GETs are neither counted nor cut
        assert client.post(scores, json={"user_id": "bob", "score": 1}).status_code == 202
        assert (proxy.requests, proxy.cuts, cut_at) == (3, 1, [2])
    # The cut submission was applied all the same.
    deadline = time.monotonic() + 10
    while (ada := httpx.get(f"{server.base_url}/v1/boards/{b.arena}/users/ada").json()).get("score") != 12:
        assert time.monotonic() < deadline, ada
        time.sleep(0.05)


def test_proxy_relays_everything_when_not_cutting(server: PodiumProcess, b: BoardNames) -> None:
    assert httpx.put(f"{server.base_url}/v1/boards/{b.arena}", json={}).status_code == 201
    with FaultProxy(server.port) as proxy, httpx.Client(base_url=proxy.base_url, timeout=5) as client:
        for i in range(50):  # one kept-alive connection, request after request
            body = {"scores": [{"user_id": f"u{j}", "score": i + j} for j in range(40)]}
            assert client.post(f"/v1/boards/{b.arena}/scores/batch?wait=true", json=body).status_code == 200
        via_proxy = client.get(f"/v1/boards/{b.arena}/top?limit=100").json()
        assert proxy.requests == 50 and proxy.cuts == 0
    assert via_proxy == httpx.get(f"{server.base_url}/v1/boards/{b.arena}/top?limit=100").json()
    assert len(via_proxy["entries"]) == 40


def test_request_end_waits_for_the_whole_body() -> None:
    head = b"POST /x HTTP/1.1\r\nHost: h\r\ncontent-length: 5\r\n\r\n"
    assert _request_end(head) is None
    assert _request_end(head + b"abc") is None
    assert _request_end(head + b"abcde" + b"GET /") == len(head) + 5
    assert _request_end(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n") == 27


# -- the load generator ----------------------------------------------------------------


def test_load_generator_retries_the_same_key_until_acknowledged(server: PodiumProcess, b: BoardNames) -> None:
    with new_board(server, b.arena) as checker, FaultProxy(server.port, cut_every=3) as proxy:
        with LoadGenerator(proxy.base_url, b.arena, game_servers=3, users=9) as load:
            load.wait_acked(150)
        acks = load.acked
        result = checker.wait_and_check(acks, timeout_s=10, quiet_s=0.3)
    keys = [a.submission.key for a in acks]
    assert len(set(keys)) == len(keys)  # one key per submission, each acknowledged once
    assert sum(a.attempts - 1 for a in acks) == load.retries == proxy.cuts > 0
    assert load.in_flight == 0 and 1 <= load.peak_in_flight <= 3
    assert result.exact, result.summary()  # the retries of cut answers counted once


def test_load_generator_retries_a_dead_server_and_aborts_at_once() -> None:
    load = LoadGenerator(f"http://127.0.0.1:{free_port()}", "arena", game_servers=4).start()
    time.sleep(0.5)
    assert load.in_flight == 4 and load.retries >= 4 and set(load.errors) == {"ConnectError"}
    started = time.monotonic()
    load.abort()
    assert time.monotonic() - started < 2
    assert len(load.abandoned) == 4 and load.acked == [] and load.in_flight == 0


# -- the report ------------------------------------------------------------------------


def row(fault: str, lost: int = 0, converge_s: float | None = 0.5) -> FaultRow:
    return FaultRow(fault, "embedded", 100, 4, lost, 0, converge_s)


def test_report_appends_runs_and_renders_the_latest_of_each_fault(tmp_path: Path) -> None:
    path = append_row(row("kill / restart", lost=3), tmp_path)
    append_row(row("kill / restart"), tmp_path)
    append_row(row("cut", converge_s=None), tmp_path)
    assert path == tmp_path / "kill-restart.json" and len(json.loads(path.read_text())) == 2
    (tmp_path / "other.json").write_text('{"brokers": 3, "lost": 0}')  # another shape: shown as it is
    rows, others = load_rows(tmp_path)
    assert len(rows) == 3 and others == {"other.json": {"brokers": 3, "lost": 0}}
    out = tmp_path / "reliability.md"
    text = write_reliability(tmp_path, out)
    assert out.read_text() == text == render(rows, others)
    lines = [line for line in text.splitlines() if line.startswith("| kill") or line.startswith("| cut")]
    assert lines == [
        "| cut | embedded | 100 | 4 | 0 | 0 | exact | never | 1 (1 not exact) |  |",
        "| kill / restart | embedded | 100 | 4 | 0 | 0 | exact | 0.500 s | 2 (1 not exact) |  |",
    ]
    assert "## Method" in text and '"brokers": 3' in text.split("## Other records")[1]
