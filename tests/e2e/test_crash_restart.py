"""SIGKILL the server while a client streams submissions; after a restart every
acknowledged submission is counted exactly once, and retries of the others (with
their idempotency keys, as a game server would) are counted once too."""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from pathlib import Path

import httpx
import pytest

from tests.e2e.server import PodiumProcess

pytestmark = pytest.mark.e2e

USERS = [f"u{i}" for i in range(25)]
STREAMERS = 4


def payload(i: int) -> dict[str, object]:
    return {"user_id": USERS[i % len(USERS)], "score": i % 9 + 1, "key": f"sub-{i}"}


def test_sigkill_mid_stream_loses_nothing_and_counts_nothing_twice(tmp_path: Path) -> None:
    server = PodiumProcess(tmp_path / "data").start()
    try:
        assert httpx.put(f"{server.base_url}/v1/boards/arena", json={}).status_code == 201
        acked: set[int] = set()
        sent: set[int] = set()
        lock = threading.Lock()
        stop = threading.Event()
        counter = iter(range(1_000_000))

        def stream() -> None:
            with httpx.Client(base_url=server.base_url, timeout=5) as client:
                while not stop.is_set():
                    with lock:
                        i = next(counter)
                        sent.add(i)
                    try:
                        answer = client.post("/v1/boards/arena/scores", json=payload(i))
                    except httpx.HTTPError:
                        continue  # no answer: the client does not know; it will retry
                    if answer.status_code == 202:
                        with lock:
                            acked.add(i)

        threads = [threading.Thread(target=stream) for _ in range(STREAMERS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while len(acked) < 600 and time.monotonic() < deadline:
            time.sleep(0.01)
        server.kill()  # mid-stream: requests are in flight right now
        stop.set()
        for t in threads:
            t.join()
        acked_before_kill = set(acked)
        assert len(acked_before_kill) >= 600
        unacked = sent - acked_before_kill
        print(f"acknowledged before the kill: {len(acked_before_kill)}, in flight or refused: {len(unacked)}")

        server.start()
        with httpx.Client(base_url=server.base_url, timeout=10) as client:
            # The game server retries what it never saw acknowledged, and (having
            # lost its own acks, say) also some it did: same keys, same payloads.
            for i in sorted(unacked) + sorted(acked_before_kill)[:100]:
                assert client.post("/v1/boards/arena/scores", json=payload(i)).status_code == 202
            # Per-user order: a last wait=true submission per user means all earlier ones are visible.
            for user in USERS:
                body = {"user_id": user, "score": 0, "key": f"final-{user}"}
                assert client.post("/v1/boards/arena/scores?wait=true", json=body).status_code == 200
            expected: dict[str, int] = defaultdict(int)
            for i in sent:
                p = payload(i)
                expected[str(p["user_id"])] += int(str(p["score"]))
            top = client.get("/v1/boards/arena/top?limit=1000").json()
            got = {e["user_id"]: e["score"] for e in top["entries"]}
            assert got == dict(expected)
            ranks = [e["rank"] for e in top["entries"]]
            assert ranks == list(range(1, len(USERS) + 1))
            # An already-applied key sent once more changes nothing.
            before = client.get("/v1/boards/arena/users/u0").json()["score"]
            assert client.post("/v1/boards/arena/scores?wait=true", json=payload(0)).json()["score"] == before
    finally:
        server.stop()


def test_acknowledged_submissions_survive_sigkill_without_any_retry(tmp_path: Path) -> None:
    """No retries at all: what was acknowledged before the crash is applied after the restart."""
    server = PodiumProcess(tmp_path / "data").start()
    try:
        base = server.base_url
        assert httpx.put(f"{base}/v1/boards/arena", json={}).status_code == 201
        with httpx.Client(base_url=base, timeout=5) as client:
            for i in range(300):
                assert client.post("/v1/boards/arena/scores", json=payload(i)).status_code == 202
        server.kill()  # right after the last ack: most are still unapplied or unpublished
        server.start()
        expected: dict[str, int] = defaultdict(int)
        for i in range(300):
            p = payload(i)
            expected[str(p["user_id"])] += int(str(p["score"]))
        deadline = time.monotonic() + 20
        while True:
            top = httpx.get(f"{base}/v1/boards/arena/top?limit=100").json()
            got = {e["user_id"]: e["score"] for e in top["entries"]}
            if got == dict(expected) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert got == dict(expected)
    finally:
        server.stop()
