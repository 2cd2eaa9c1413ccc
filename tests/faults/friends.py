"""Friends boards under faults: a friend graph over the load's users, set through the API
before the fault, and a check that every user's friends board equals a plain reference —
the board's ranking (GET .../top, itself checked against the acks) kept to the user and
their friends. Users and scores only: how ties are numbered is the read path's business."""

from __future__ import annotations

import random
import time

import httpx


class FriendGraph:
    """Each user follows a few others at random, and everyone follows the first user (a
    star, the most-followed: its entry is fanned out to every follower)."""

    def __init__(self, base_url: str, users: list[str], *, seed: int = 18, friends: int = 6) -> None:
        rng = random.Random(seed)
        self.base_url = base_url
        self.lists = {
            u: sorted({f for f in rng.sample(users, min(friends, len(users))) if f != u} | ({users[0]} - {u}))
            for u in users
        }

    def put(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=10.0) as client:
            for user, friends in self.lists.items():
                answer = client.put(f"/v1/users/{user}/friends", json={"friends": friends})
                assert answer.status_code == 200, answer.text

    def mismatches(self, board: str) -> list[str]:
        """The users whose friends board differs from the reference (empty: all exact)."""
        with httpx.Client(base_url=self.base_url, timeout=10.0) as client:
            top = client.get(f"/v1/boards/{board}/top", params={"limit": 1000}).json()["entries"]
            wrong = []
            for user, friends in self.lists.items():
                members = {user, *friends}
                want = [(e["user_id"], e["score"]) for e in top if e["user_id"] in members]
                got = client.get(f"/v1/boards/{board}/users/{user}/friends", params={"limit": 1000}).json()["entries"]
                if [(e["user_id"], e["score"]) for e in got] != want:
                    wrong.append(user)
            return wrong

    def wait_exact(self, board: str, timeout_s: float = 60.0) -> list[str]:
        """Wait until every friends board is exact; the users still wrong at the time-out."""
        deadline = time.monotonic() + timeout_s
        while True:
            wrong = self.mismatches(board)
            if not wrong or time.monotonic() > deadline:
                return wrong
            time.sleep(0.5)
