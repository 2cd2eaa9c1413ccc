"""A game server's behaviour under faults: submissions with idempotency keys, each
retried until acknowledged; the expected totals follow from what was sent."""

from __future__ import annotations

import threading
import time
from collections import defaultdict

import httpx


class Streamer:
    def __init__(self, base_url: str, board: str, *, users: int = 20, threads: int = 3) -> None:
        self.base_url = base_url
        self.board = board
        self.users = [f"u{i}" for i in range(users)]
        self.threads = threads
        self.acked = 0
        self.retries = 0
        self._next = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._workers: list[threading.Thread] = []

    def payload(self, i: int) -> dict[str, object]:
        return {"user_id": self.users[i % len(self.users)], "score": i % 7 + 1, "key": f"s{i}"}

    def start(self) -> Streamer:
        self._workers = [threading.Thread(target=self._run, daemon=True) for _ in range(self.threads)]
        for w in self._workers:
            w.start()
        return self

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=10) as client:
            while not self._stop.is_set():
                with self._lock:
                    i = self._next
                    self._next += 1
                self._send(client, i)

    def _send(self, client: httpx.Client, i: int) -> None:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:  # retried with the same key until acknowledged
            try:
                if client.post(f"/v1/boards/{self.board}/scores", json=self.payload(i)).status_code == 202:
                    with self._lock:
                        self.acked += 1
                    return
            except httpx.HTTPError:
                pass
            with self._lock:
                self.retries += 1
            time.sleep(0.2)
        raise AssertionError(f"submission {i} never acknowledged")

    def wait_acked(self, count: int, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while self.acked < count:
            assert time.monotonic() < deadline, f"only {self.acked} of {count} acknowledged"
            time.sleep(0.05)

    def stop(self) -> None:
        self._stop.set()
        for w in self._workers:
            w.join(330)

    def expected(self) -> dict[str, int]:
        totals: dict[str, int] = defaultdict(int)
        for i in range(self._next):
            p = self.payload(i)
            totals[str(p["user_id"])] += int(str(p["score"]))
        return dict(totals)

    def settle_and_read(self, timeout_s: float = 120) -> dict[str, int]:
        """A final wait=true per user (per-user order: all earlier ones are then visible)."""
        with httpx.Client(base_url=self.base_url, timeout=timeout_s) as client:
            for user in self.users:
                body = {"user_id": user, "score": 0, "key": f"final-{user}"}
                deadline = time.monotonic() + timeout_s
                while True:
                    answer = client.post(f"/v1/boards/{self.board}/scores?wait=true", json=body)
                    if answer.status_code == 200:
                        break
                    assert time.monotonic() < deadline, answer.text
            top = client.get(f"/v1/boards/{self.board}/top?limit=1000").json()
        return {e["user_id"]: e["score"] for e in top["entries"]}
