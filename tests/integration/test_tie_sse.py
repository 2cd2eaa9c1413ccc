"""The issue's live reproduction as it was reported: over Server-Sent Events
(`GET /v1/boards/{board}/events`), on a `dense` board, in both profiles. Starlette's
TestClient buffers whole responses, so the endless stream needs a real server."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest

from podium.api.app import create_app
from podium.settings import Settings
from tests.conftest import BoardNames
from tests.integration.live_clients import LiveState, serving, sse_frames


@pytest.fixture
def server(settings: Settings) -> Iterator[str]:
    with serving(create_app(settings), start_s=60) as url:
        yield url


def test_the_event_stream_of_a_dense_board_shares_ranks(server: str, b: BoardNames) -> None:
    a, bb, c, d, e, f = (f"{u}-{b.t}" for u in "abcdef")
    with httpx.Client(base_url=server, timeout=30) as http:
        assert http.put(f"/v1/boards/{b.t}", json={"tie": "dense"}).status_code == 201
        assert http.put(f"/v1/users/{e}/friends", json={"friends": [a, bb, d]}).status_code == 200

        def post(scores: list[tuple[str, int]]) -> None:
            body = {"scores": [{"user_id": u, "score": s} for u, s in scores]}
            answer = http.post(f"/v1/boards/{b.t}/scores/batch?wait=true", json=body)
            assert answer.status_code == 200, answer.text

        post([(a, 10), (bb, 10), (c, 10), (d, 5), (e, 5)])
        state = LiveState()
        scorer = threading.Thread(target=post, args=([(f, 7)],))
        with http.stream("GET", f"/v1/boards/{b.t}/events", params={"user_id": e, "top": 10}) as answer:
            for frame in sse_frames(answer.iter_lines()):
                state.apply(frame)
                if frame["type"] == "snapshot":
                    assert [x["rank"] for x in frame["top"]] == [1, 1, 1, 2, 2]
                    assert frame["me"]["rank"] == 2
                    scorer.start()  # f scores 7 once the snapshot is in
                if state.saw(f):
                    break
        scorer.join(30)
    assert [(x["user_id"], x["rank"]) for x in state.top] == [(a, 1), (bb, 1), (c, 1), (f, 2), (d, 3), (e, 3)]
    assert state.me is not None and state.me["rank"] == 3
