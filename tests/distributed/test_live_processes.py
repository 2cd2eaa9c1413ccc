"""Live updates behind a load balancer: two `podium api` processes on the real stack,
an SSE subscriber on each. The rank-worker publishes through Redis, so both see the
same changes under the same sequence numbers, none missing, none twice."""

from __future__ import annotations

import contextlib
import json
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.distributed.stack import DIST_ENV
from tests.e2e.server import PodiumProcess

pytestmark = pytest.mark.distributed

SUBMISSIONS = 30


def follow(base_url: str, board: str, frames: list[dict[str, Any]], stop: threading.Event) -> None:
    url = f"{base_url}/v1/boards/{board}/events"
    with contextlib.suppress(httpx.HTTPError), httpx.stream("GET", url, params={"top": 5}, timeout=None) as answer:
        for line in answer.iter_lines():  # until the test is done and its servers stop
            if line.startswith("data:"):
                frames.append(json.loads(line[5:]))
            if stop.is_set():
                return


def test_two_api_processes_stream_the_same_numbered_changes(
    distributed_processes: dict[str, PodiumProcess], board_name: str, tmp_path: Path
) -> None:
    first = distributed_processes["api"]
    second = PodiumProcess(tmp_path / "second-api", command="api", env=DIST_ENV).start(timeout_s=60)
    try:
        assert httpx.put(f"{first.base_url}/v1/boards/{board_name}", json={}).status_code == 201
        stop = threading.Event()
        streams: list[list[dict[str, Any]]] = [[], []]
        readers = [
            threading.Thread(target=follow, args=(api.base_url, board_name, frames, stop), daemon=True)
            for api, frames in zip((first, second), streams, strict=True)
        ]
        for r in readers:
            r.start()
        for frames in streams:  # both subscribed: their snapshots arrived
            deadline = 30.0
            while not frames and deadline > 0:
                threading.Event().wait(0.05)
                deadline -= 0.05
            assert frames and frames[0]["type"] == "snapshot"
        for i in range(SUBMISSIONS):  # alternately through either process, as a balancer would
            api = (first, second)[i % 2]
            body = {"user_id": f"p{i % 7}", "score": i + 1}
            assert httpx.post(f"{api.base_url}/v1/boards/{board_name}/scores?wait=true", json=body).status_code == 200

        def changes(frames: list[dict[str, Any]]) -> list[tuple[int, str, int]]:
            return [(c["seq"], c["user_id"], c["score"]) for f in frames for c in f.get("changes", [])]

        deadline = 30.0
        while any(len(changes(f)) < SUBMISSIONS for f in streams) and deadline > 0:
            threading.Event().wait(0.1)
            deadline -= 0.1
        stop.set()
        one, two = changes(streams[0]), changes(streams[1])
        assert len(one) == SUBMISSIONS and one == two  # the same changes, the same numbers
        seqs = [s for s, _, _ in one]
        assert seqs == list(range(seqs[0], seqs[0] + SUBMISSIONS))  # consecutive: no gap, no repeat
        assert seqs[0] == streams[0][0]["seq"] + 1  # right after the snapshot's state
    finally:
        second.stop()
