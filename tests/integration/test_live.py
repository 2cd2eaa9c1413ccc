"""Live updates through the whole embedded pipeline, with the in-process hub and with the
Redis pub/sub hub (a local redis-server): WebSocket clients via Starlette's TestClient,
SSE clients against a real uvicorn server with httpx streaming."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from podium.api.app import create_app
from podium.live.redis import PUBLISH
from podium.plumbing import names
from podium.settings import Settings
from tests.conftest import BoardNames
from tests.integration.live_clients import LiveState, serving, sse_frames
from tests.integration.test_api import core, make_board, submit


@pytest.fixture(scope="module")
def live_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from tests.engines import private_redis

    yield from private_redis(tmp_path_factory.mktemp("live-redis"))


@pytest.fixture(params=["memory", "redis"])
def hub(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def live_settings(tmp_path: Path, hub: str, request: pytest.FixtureRequest, **overrides: Any) -> Settings:
    redis_url = request.getfixturevalue("live_redis") if hub == "redis" else ""
    return Settings(auth="off", data=tmp_path / "data", wait_timeout_s=5.0, live_redis_url=redis_url, **overrides)


def receive_until(ws: Any, state: LiveState, done: Any, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not done(state):
        assert time.monotonic() < deadline, "the live stream stopped short"
        state.apply(ws.receive_json())


def assert_matches_reads(client: TestClient, board: str, state: LiveState, me: str | None, top: int) -> None:
    for user, score in state.scores.items():
        assert client.get(f"/v1/boards/{board}/users/{user}").json()["score"] == score
    assert state.top == client.get(f"/v1/boards/{board}/top", params={"limit": top}).json()["entries"]
    if me is not None:
        assert state.me is not None and core(state.me) == core(client.get(f"/v1/boards/{board}/users/{me}").json())


def test_websocket_sees_every_change_in_order(
    tmp_path: Path, hub: str, request: pytest.FixtureRequest, b: BoardNames
) -> None:
    with TestClient(create_app(live_settings(tmp_path, hub, request))) as client:
        make_board(client, b.arena)
        client.put(f"/v1/users/{b.ada}/friends", json={"friends": [b.bob]})
        with client.websocket_connect(f"/v1/boards/{b.arena}/live?user_id={b.ada}&top=3") as ws:
            state = LiveState()
            state.apply(ws.receive_json())
            assert state.frames[0] == {**state.frames[0], "type": "snapshot", "top": [], "me": None}
            assert state.friends == []
            users = [b.ada, b.bob, b.cy, b.dee, b.eve]
            for i in range(25):
                submit(client, b.arena, users[i % 5], (i * 37) % 100)
            submit(client, b.arena, b.last, 1)
            receive_until(ws, state, lambda s: s.saw(b.last))
        assert state.seqs == list(range(state.seqs[0], state.seqs[0] + len(state.seqs))) and len(state.seqs) >= 6
        assert set(state.scores) == {*users, b.last}
        assert_matches_reads(client, b.arena, state, b.ada, 3)
        friends = client.get(f"/v1/boards/{b.arena}/users/{b.ada}/friends", params={"limit": 3}).json()
        assert state.friends == friends["entries"]


def test_websocket_resumes_without_gap_or_repeat(
    tmp_path: Path, hub: str, request: pytest.FixtureRequest, b: BoardNames
) -> None:
    with TestClient(create_app(live_settings(tmp_path, hub, request))) as client:
        make_board(client, b.arena)
        state = LiveState()
        with client.websocket_connect(f"/v1/boards/{b.arena}/live?top=5") as ws:
            state.apply(ws.receive_json())
            for i in range(4):
                submit(client, b.arena, f"u{i}", 10 + i)
            receive_until(ws, state, lambda s: s.saw("u3"))
        # Disconnected (the socket is closed): the board goes on changing.
        left_at = state.seq
        for i in range(4, 12):
            submit(client, b.arena, f"u{i % 6}", 5 * i)
        with client.websocket_connect(f"/v1/boards/{b.arena}/live?top=5&resume_from={left_at}") as ws:
            first = ws.receive_json()
            assert first["type"] == "delta" and first["changes"][0]["seq"] == left_at + 1
            assert "top" in first  # the first frame after a resume carries the whole view
            state.apply(first)
            submit(client, b.arena, "zz", 1)
            receive_until(ws, state, lambda s: s.saw("zz"))
        assert state.seqs == list(range(state.seqs[0], state.seqs[0] + len(state.seqs))) and len(state.seqs) >= 13
        assert_matches_reads(client, b.arena, state, None, 5)


def test_a_client_too_far_behind_gets_a_fresh_snapshot(
    tmp_path: Path, hub: str, request: pytest.FixtureRequest, b: BoardNames
) -> None:
    with TestClient(create_app(live_settings(tmp_path, hub, request, live_history=4))) as client:
        make_board(client, b.arena)
        for i in range(10):
            submit(client, b.arena, f"u{i}", i)
        with client.websocket_connect(f"/v1/boards/{b.arena}/live?top=3") as ws:
            last = ws.receive_json()["seq"]  # the tenth change's number
        with client.websocket_connect(f"/v1/boards/{b.arena}/live?top=3&resume_from={last - 8}") as ws:
            frame = ws.receive_json()
        assert (frame["type"], frame["reason"], frame["seq"]) == ("snapshot", "resume_too_old", last)
        assert frame["top"] == client.get(f"/v1/boards/{b.arena}/top", params={"limit": 3}).json()["entries"]
        # Still inside the history: the missed changes, not a snapshot.
        with client.websocket_connect(f"/v1/boards/{b.arena}/live?top=3&resume_from={last - 3}") as ws:
            frame = ws.receive_json()
        assert frame["type"] == "delta" and [c["seq"] for c in frame["changes"]] == [last - 2, last - 1, last]
        # Ahead of the stream (a number from before a restart): a snapshot too.
        with client.websocket_connect(f"/v1/boards/{b.arena}/live?resume_from={last + 89}") as ws:
            assert ws.receive_json()["type"] == "snapshot"


def test_bursts_are_coalesced_to_the_frame_rate_and_keep_the_latest_state(tmp_path: Path, b: BoardNames) -> None:
    fps = 4
    unlimited = {"rate_key_per_s": 0, "rate_address_per_s": 0}  # a burst of submissions from one address
    with TestClient(create_app(Settings(auth="off", data=tmp_path / "data", live_max_fps=fps, **unlimited))) as client:
        make_board(client, b.arena)
        with client.websocket_connect(f"/v1/boards/{b.arena}/live?top=3") as ws:
            state = LiveState()
            state.apply(ws.receive_json())
            started = time.monotonic()
            for i in range(60):
                submit(client, b.arena, f"u{i % 7}", i)
            elapsed_s = time.monotonic() - started
            submit(client, b.arena, "zz", 1000)
            receive_until(ws, state, lambda s: s.saw("zz"))
        deltas = [f for f in state.frames if f["type"] == "delta"]
        gaps_ms = [later["at_ms"] - f["at_ms"] for f, later in zip(state.frames, state.frames[1:], strict=False)]
        assert min(gaps_ms) >= 1000 / fps - 5, gaps_ms
        assert len(state.seqs) >= 61 and len(deltas) <= elapsed_s * fps + 3 < len(state.seqs)
        assert deltas[-1]["seq"] == state.seqs[-1]
        assert_matches_reads(client, b.arena, state, None, 3)


def test_players_get_their_events(tmp_path: Path, b: BoardNames) -> None:
    with TestClient(create_app(Settings(auth="off", data=tmp_path / "data"))) as client:
        make_board(client, b.arena)
        client.put(f"/v1/users/{b.ada}/friends", json={"friends": [b.bob]})
        for user, score in [(b.ada, 50), (b.bob, 10), (b.cy, 100), (b.dee, 90)]:
            submit(client, b.arena, user, score)
        with client.websocket_connect(f"/v1/boards/{b.arena}/live?user_id={b.ada}&top=2") as ws:
            state = LiveState()
            state.apply(ws.receive_json())
            assert state.me is not None and core(state.me) == {"rank": 3, "user_id": b.ada, "score": 50}
            submit(client, b.arena, b.bob, 45)  # 55: passes ada, still outside the top 2
            receive_until(ws, state, lambda s: s.saw(b.bob))
            assert state.events == [{"type": "friend_passed_you", "friend": b.bob, "friend_rank": 3, "rank": 4}]
            submit(client, b.arena, b.ada, 60)  # 110: first place
            receive_until(ws, state, lambda s: s.saw(b.ada))
            submit(client, b.arena, b.ada, -5)  # 105: not a personal best
            submit(client, b.arena, b.cy, 1)  # someone else: no event for ada
            receive_until(ws, state, lambda s: s.saw(b.cy))
        assert state.events[1:] == [
            {"type": "personal_best", "score": 110, "previous": 50},
            {"type": "entered_top", "rank": 1, "top": 2},
        ]


def test_friends_global_ranks_follow_other_players_changes(tmp_path: Path, b: BoardNames) -> None:
    """A stranger passing ada's friend changes only the friend's global rank: the friends
    board on ada's stream catches up within the refresh interval."""
    with TestClient(create_app(Settings(auth="off", data=tmp_path / "data"))) as client:
        make_board(client, b.arena)
        client.put(f"/v1/users/{b.ada}/friends", json={"friends": [b.bob]})
        for user, score in [(b.ada, 50), (b.bob, 40)]:
            submit(client, b.arena, user, score)
        with client.websocket_connect(f"/v1/boards/{b.arena}/live?user_id={b.ada}&top=2") as ws:
            state = LiveState()
            state.apply(ws.receive_json())
            assert [(e["user_id"], e["global_rank"]) for e in state.friends or []] == [(b.ada, 1), (b.bob, 2)]
            submit(client, b.arena, b.cy, 45)  # passes bob, not ada: neither ada nor a friend changed
            time.sleep(1.1)  # the refresh interval
            submit(client, b.arena, b.dee, 1)  # any change brings the next frame
            receive_until(ws, state, lambda s: s.saw(b.dee))
            assert [(e["user_id"], e["global_rank"]) for e in state.friends or []] == [(b.ada, 1), (b.bob, 3)]


def test_a_hidden_users_changes_reach_only_its_own_stream(
    tmp_path: Path, hub: str, request: pytest.FixtureRequest, b: BoardNames
) -> None:
    """Everyone else sees a shadow-banned user's changes as removals: never its score or rank,
    nor in a top, friends board or event. The banned user's own stream is as it was."""
    with TestClient(create_app(live_settings(tmp_path, hub, request))) as client:
        make_board(client, b.arena)
        client.put(f"/v1/users/{b.ada}/friends", json={"friends": [b.cheat]})
        for user, score in [(b.pro, 90), (b.ada, 50), (b.cheat, 40), (b.cy, 30)]:
            submit(client, b.arena, user, score)
        with (
            client.websocket_connect(f"/v1/boards/{b.arena}/live?user_id={b.ada}&top=3") as others,
            client.websocket_connect(f"/v1/boards/{b.arena}/live?user_id={b.cheat}&top=3") as own,
        ):
            seen, mine = LiveState(), LiveState()
            seen.apply(others.receive_json())
            mine.apply(own.receive_json())
            assert [e["user_id"] for e in seen.friends or []] == [b.ada, b.cheat]
            assert client.post(f"/v1/boards/{b.arena}/users/{b.cheat}/hide").status_code == 200
            submit(client, b.arena, b.cheat, 100)  # 140: would pass pro and ada
            submit(client, b.arena, b.last, 1)
            receive_until(others, seen, lambda s: s.saw(b.last))
            receive_until(own, mine, lambda s: s.saw(b.last))
            hidden = [c for f in seen.frames[1:] for c in f.get("changes", []) if c["user_id"] == b.cheat]
            assert len(hidden) == 2 and all((c["score"], c["rank"]) == (0, None) for c in hidden)
            assert all(b.cheat not in [e["user_id"] for e in f.get("top", [])] for f in seen.frames[1:])
            assert [e["user_id"] for e in seen.top] == [b.pro, b.ada, b.cy]
            assert [e["user_id"] for e in seen.friends or []] == [b.ada]
            assert seen.events == [] and seen.me is not None and seen.me["rank"] == 2  # no friend passed ada
            own_changes = [c for f in mine.frames[1:] for c in f.get("changes", []) if c["user_id"] == b.cheat]
            assert [(c["score"], c["rank"]) for c in own_changes] == [(40, 3), (140, 1)]
            assert mine.me is not None and (mine.me["rank"], mine.me["score"]) == (1, 140)
            assert {"type": "personal_best", "score": 140, "previous": 40} in mine.events

            assert client.delete(f"/v1/boards/{b.arena}/users/{b.cheat}/hide").status_code == 200
            submit(client, b.arena, b.last, 1)
            receive_until(others, seen, lambda s: s.scores.get(b.last) == 2)
        back = [c for f in seen.frames for c in f.get("changes", []) if c["user_id"] == b.cheat][-1]
        assert (back["score"], back["rank"]) == (140, 1)
        assert [e["user_id"] for e in seen.top] == [b.cheat, b.pro, b.ada]
        assert seen.events == [{"type": "friend_passed_you", "friend": b.cheat, "friend_rank": 1, "rank": 3}]


@pytest.fixture
def server(tmp_path: Path, hub: str, request: pytest.FixtureRequest) -> Iterator[str]:
    with serving(create_app(live_settings(tmp_path, hub, request))) as url:
        yield url


def read_sse(http: httpx.Client, url: str, state: LiveState, until: str, **headers: str) -> dict[str, Any]:
    """Stream frames into `state` until a change of user `until`; returns the first frame."""
    first: dict[str, Any] | None = None
    with http.stream("GET", url, headers=headers) as answer:
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/event-stream")
        for frame in sse_frames(answer.iter_lines()):
            first = first or frame
            state.apply(frame)
            if state.saw(until) or (until == "" and first is not None):
                break
    assert first is not None
    return first


def test_sse_sees_every_change_and_resumes_with_last_event_id(server: str, b: BoardNames) -> None:
    board = b.arena
    with httpx.Client(base_url=server, timeout=20) as http:
        assert http.put(f"/v1/boards/{board}").status_code == 201

        def post(user: str, score: int) -> None:
            answer = http.post(f"/v1/boards/{board}/scores?wait=true", json={"user_id": user, "score": score})
            assert answer.status_code == 200, answer.text

        post("a0", 1)
        state = LiveState()
        feeder = threading.Thread(target=lambda: [post(f"a{i % 4}", i) for i in range(1, 15)] and post("x1", 7))
        url = f"/v1/boards/{board}/events?top=4"
        first = threading.Timer(0.3, feeder.start)
        first.start()
        assert read_sse(http, url, state, "x1")["type"] == "snapshot"
        feeder.join()
        left_at = state.seq
        for i in range(6):  # while disconnected
            post(f"a{i}", 100 + i)
        threading.Timer(0.3, lambda: post("x2", 3)).start()
        resumed = read_sse(http, url, state, "x2", **{"Last-Event-ID": str(left_at)})
        assert resumed["type"] == "delta" and resumed["changes"][0]["seq"] == left_at + 1
        assert state.seqs == list(range(state.seqs[0], state.seqs[-1] + 1)) and len(state.seqs) >= 21
        for user, score in state.scores.items():
            assert http.get(f"/v1/boards/{board}/users/{user}").json()["score"] == score
        assert state.top == http.get(f"/v1/boards/{board}/top", params={"limit": 4}).json()["entries"]
        # The query parameter does what the header does; a bad one is refused.
        again = LiveState()
        again.seq = state.seq
        first_again = read_sse(http, f"{url}&last_event_id={state.seq}", again, "")
        assert (first_again["type"], first_again["changes"], first_again["seq"]) == ("delta", [], state.seq)
        for bad in ("x", "%C2%B2"):  # "²" is a digit to str.isdigit(), not to int(): was a 500
            refused = http.get(f"{url}&last_event_id={bad}")
            assert (refused.status_code, refused.json()["error"]["code"]) == (400, "invalid_parameter")
        assert http.get(f"/v1/boards/{b.nope}/events").status_code == 404


def test_a_websocket_with_bad_input_gets_an_error_frame(tmp_path: Path, b: BoardNames) -> None:
    with TestClient(create_app(Settings(auth="off", data=tmp_path / "data", live_max_top=20))) as client:
        make_board(client, b.arena)
        for path, code in [
            (f"/v1/boards/{b.nope}/live", "board_not_found"),
            (f"/v1/boards/{b.arena}/live?top=21", "invalid_parameter"),
            (f"/v1/boards/{b.arena}/live?resume_from=-1", "invalid_parameter"),
            (f"/v1/boards/{b.arena}/live?user_id=no%20spaces", "invalid_user_id"),
        ]:
            with client.websocket_connect(path) as ws:
                frame = ws.receive_json()
                assert (frame["type"], frame["error"]["code"]) == ("error", code), (path, frame)
                assert ws.receive()["code"] == 1008


def test_changes_lost_by_a_dropped_pub_sub_connection_are_filled_from_the_history(
    tmp_path: Path, request: pytest.FixtureRequest, b: BoardNames
) -> None:
    import redis

    url = request.getfixturevalue("live_redis")
    with TestClient(create_app(live_settings(tmp_path, "redis", request))) as client:
        make_board(client, b.arena)
        with client.websocket_connect(f"/v1/boards/{b.arena}/live?top=3") as ws:
            state = LiveState()
            state.apply(ws.receive_json())
            submit(client, b.arena, "u0", 1)
            receive_until(ws, state, lambda s: s.saw("u0"))
            with redis.Redis.from_url(url) as admin:
                # Drop this process's pub/sub connection and, before it can reconnect, publish
                # as another rank-worker would: that message never reaches this process.
                assert admin.client_kill_filter(_type="pubsub") >= 1
                keys = [names.live_seq_key(b.arena), names.live_history_key(b.arena), names.live_channel(b.arena)]
                again = {"user_id": "u0", "score": 1, "rank": 1, "version": 1}
                admin.register_script(PUBLISH)(keys=keys, args=[1000, json.dumps(again)[1:]])
            time.sleep(0.5)  # the hub reconnects and subscribes again
            for i in range(1, 4):
                submit(client, b.arena, f"u{i}", i)
            submit(client, b.arena, "zz", 1)
            receive_until(ws, state, lambda s: s.saw("zz"))
        assert state.seqs == list(range(1, 7))
        assert_matches_reads(client, b.arena, state, None, 3)


@pytest.mark.parametrize("hub", ["memory"])
def test_the_readme_python_client_works_as_written(server: str, b: BoardNames) -> None:
    import re

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    [code] = [c for c in re.findall(r"```python\n(.*?)```", readme, flags=re.S) if "def follow(" in c]
    definitions, _, usage = code.partition("for frame in follow(")
    assert '"http://127.0.0.1:8000", "arena", "ada"' in usage
    namespace: dict[str, Any] = {}
    exec(definitions, namespace)  # the README's `follow`, as written
    with httpx.Client(base_url=server) as http:
        http.put(f"/v1/boards/{b.arena}")
        threading.Timer(
            0.3, lambda: http.post(f"/v1/boards/{b.arena}/scores", json={"user_id": "ada", "score": 5})
        ).start()
        frames = namespace["follow"](server, b.arena, "ada", "any key: auth is off here")
        snapshot, delta = next(frames), next(frames)
        frames.close()
    assert (snapshot["type"], snapshot["me"]) == ("snapshot", None)
    first = snapshot["seq"] + 1
    assert (delta["type"], delta["seq"], core(delta["me"])) == (
        "delta",
        first,
        {"rank": 1, "user_id": "ada", "score": 5},
    )
    assert {"type": "personal_best", "score": 5, "previous": None} in delta["events"]
    # Resuming from the last seq seen: nothing repeated, the next change comes next.
    with httpx.Client(base_url=server) as http:
        threading.Timer(
            0.3, lambda: http.post(f"/v1/boards/{b.arena}/scores", json={"user_id": "bob", "score": 1})
        ).start()
        frames = namespace["follow"](server, b.arena, "ada", "any key", last_seq=delta["seq"])
        first, second = next(frames), next(frames)
        frames.close()
    assert (first["type"], first["changes"]) == ("delta", [])
    assert [c["seq"] for c in second["changes"]] == [delta["seq"] + 1]
