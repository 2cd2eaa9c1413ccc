"""Game servers under faults: each submission carries its own idempotency key and
is retried with that same key until the service acknowledges it.

Speaks HTTP only, so it drives either profile: give it the API's base URL (or a
FaultProxy's in front of it).
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import httpx

# Answers a real game server retries: the service is down, overloaded or slow.
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class Submission:
    key: str
    user_id: str
    score: int


@dataclass(frozen=True)
class Ack:
    submission: Submission
    attempts: int
    acked_at: float  # time.monotonic()
    seq: int  # order of acknowledgement over the whole run


def fixed_score_per_user(user_index: int, nth: int) -> int:
    """Every submission of a user has the same score, so a wrong total counts whole submissions."""
    return user_index % 5 + 1


class LoadGenerator:
    """`game_servers` threads, each owning its own users (so one user's submissions
    are sent one after the other, as a match server would), sending
    `POST /v1/boards/{board}/scores` until stopped."""

    def __init__(
        self,
        base_url: str,
        board: str,
        *,
        game_servers: int = 6,
        users: int = 40,
        score_of: Callable[[int, int], int] = fixed_score_per_user,
        request_timeout_s: float = 3.0,
        give_up_s: float = 120.0,
        run_id: str | None = None,
    ) -> None:
        self.base_url = base_url
        self.board = board
        self.game_servers = game_servers
        self.users = [f"u{i:04d}" for i in range(users)]
        self.score_of = score_of
        self.request_timeout_s = request_timeout_s
        self.give_up_s = give_up_s
        self.run_id = run_id or uuid.uuid4().hex[:8]
        self.retries = 0
        self.errors: Counter[str] = Counter()  # why an attempt was retried
        self.refused: list[tuple[Submission, int, str]] = []  # 4xx: a bug, never retried
        self.abandoned: list[Submission] = []  # not acknowledged within give_up_s
        self.crashed: list[BaseException] = []
        self.faults: list[tuple[str, int]] = []  # (name, in flight at that moment)
        self._acks: list[Ack] = []
        self._in_flight = 0
        self._peak_in_flight = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._abort = threading.Event()
        self._threads: list[threading.Thread] = []

    # -- observing -------------------------------------------------------------

    @property
    def acked(self) -> list[Ack]:
        with self._lock:
            return list(self._acks)

    @property
    def acked_count(self) -> int:
        with self._lock:
            return len(self._acks)

    @property
    def in_flight(self) -> int:
        """Submissions sent at least once and not yet acknowledged."""
        with self._lock:
            return self._in_flight

    @property
    def peak_in_flight(self) -> int:
        with self._lock:
            return self._peak_in_flight

    def mark_fault(self, name: str) -> int:
        """Note a fault now; returns how many submissions were in flight at it."""
        with self._lock:
            self.faults.append((name, self._in_flight))
            return self._in_flight

    def wait_acked(self, count: int, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while self.acked_count < count:
            if self.crashed:
                raise AssertionError(f"a game server crashed: {self.crashed[0]!r}")
            if time.monotonic() > deadline:
                raise AssertionError(f"only {self.acked_count} of {count} acknowledged in {timeout_s}s: {self.errors}")
            time.sleep(0.01)

    # -- running ---------------------------------------------------------------

    def start(self) -> LoadGenerator:
        self._threads = [
            threading.Thread(target=self._game_server, args=(g,), name=f"game-server-{g}", daemon=True)
            for g in range(self.game_servers)
        ]
        for t in self._threads:
            t.start()
        return self

    def stop(self) -> None:
        """Start no new submissions; wait until every one in flight is acknowledged (or abandoned)."""
        self._stop.set()
        for t in self._threads:
            t.join(self.give_up_s + 2 * self.request_timeout_s + 5)
        alive = [t.name for t in self._threads if t.is_alive()]
        assert not alive, f"game servers still running: {alive}"

    def abort(self) -> None:
        """Stop at once: submissions in flight are abandoned, not retried (a failed test's clean-up)."""
        self._abort.set()
        self.stop()

    def __enter__(self) -> LoadGenerator:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:
            self.stop()
        else:
            self.abort()

    def _game_server(self, g: int) -> None:
        mine = [i for i in range(len(self.users)) if i % self.game_servers == g]
        sent_to: Counter[int] = Counter()
        n = 0
        try:
            with httpx.Client(base_url=self.base_url, timeout=self.request_timeout_s) as client:
                while not self._stop.is_set() and mine:
                    user_index = mine[n % len(mine)]
                    score = self.score_of(user_index, sent_to[user_index])
                    sent_to[user_index] += 1
                    self._submit(client, Submission(f"{self.run_id}.g{g}.{n}", self.users[user_index], score))
                    n += 1
        except BaseException as e:
            self.crashed.append(e)
            raise

    def _submit(self, client: httpx.Client, submission: Submission) -> None:
        with self._lock:
            self._in_flight += 1
            self._peak_in_flight = max(self._peak_in_flight, self._in_flight)
        try:
            self._until_acked(client, submission)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _until_acked(self, client: httpx.Client, submission: Submission) -> None:
        body = {"user_id": submission.user_id, "score": submission.score, "key": submission.key}
        deadline = time.monotonic() + self.give_up_s
        pause_s = 0.02
        attempts = 0
        while True:
            attempts += 1
            why = self._attempt(client, body)
            if why is None:
                with self._lock:
                    self._acks.append(Ack(submission, attempts, time.monotonic(), len(self._acks)))
                return
            if why.startswith("refused"):
                with self._lock:
                    self.refused.append((submission, attempts, why))
                return
            with self._lock:
                self.retries += 1
                self.errors[why] += 1
            if time.monotonic() > deadline or self._abort.is_set():
                with self._lock:
                    self.abandoned.append(submission)
                return
            time.sleep(pause_s)  # the same key again, after a short backoff
            pause_s = min(pause_s * 2, 0.5)

    def _attempt(self, client: httpx.Client, body: dict[str, object]) -> str | None:
        """None when acknowledged; else why not ("refused …" is final)."""
        try:
            answer = client.post(f"/v1/boards/{self.board}/scores", json=body)
        except httpx.HTTPError as e:  # connection refused or cut, time-out: the outcome is unknown
            return type(e).__name__
        if answer.status_code in (200, 202):
            return None
        if answer.status_code in RETRY_STATUSES:
            return f"http {answer.status_code}"
        return f"refused {answer.status_code}: {answer.text[:200]}"
