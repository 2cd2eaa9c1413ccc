"""What the service must show after a fault: the totals that follow from what was
acknowledged, in the store and in the rank index, and ranks equal to those of a
plain sorted list.

The checker reads through the HTTP API only, plus an optional store reader (a
callback: board -> {user: StoredTotal}), so it works for either profile.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.faults.load import Ack


@dataclass(frozen=True)
class Entry:
    rank: int
    user_id: str
    score: int


def entry_of(answer: dict[str, Any]) -> Entry:
    """The rank, user and score of an entry as the API answers it (answers carry more)."""
    return Entry(answer["rank"], answer["user_id"], answer["score"])


@dataclass(frozen=True)
class StoredTotal:
    total: int
    reached_at_us: int | None = None  # with it, ties are checked too


StoreReader = Callable[[str], Mapping[str, StoredTotal]]


def sqlite_store_reader(path: Path) -> StoreReader:
    """The embedded profile's store (`<data>/store.db`), read-only, beside the running server."""

    def read(board: str) -> dict[str, StoredTotal]:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as conn:
            rows = conn.execute(
                "SELECT user_id, total, reached_at_us FROM totals WHERE board = ? AND removed = 0", (board,)
            ).fetchall()
        return {user: StoredTotal(total, reached) for user, total, reached in rows}

    return read


def expected_totals(acks: Iterable[Ack], operator: str, order: str) -> dict[str, int]:
    """Each user's total from the acknowledged submissions, in acknowledgement order
    (which is the user's own order: one game server sends a user's submissions one at a time)."""
    totals: dict[str, int] = {}
    better = max if order == "desc" else min
    for ack in sorted(acks, key=lambda a: a.seq):
        s = ack.submission
        if operator == "incr":
            totals[s.user_id] = totals.get(s.user_id, 0) + s.score
        elif operator == "best":
            totals[s.user_id] = better(totals.get(s.user_id, s.score), s.score)
        elif operator == "set":
            totals[s.user_id] = s.score
        else:
            raise ValueError(f"unknown operator {operator!r}")
    return totals


def miscounts(
    acks: Iterable[Ack], operator: str, expected: Mapping[str, int], got: Mapping[str, int]
) -> tuple[int, int]:
    """(lost, double-counted) submissions. With `incr` and one score per user, exact
    counts; a difference that is no whole number of the user's submissions counts as
    one. With `best` and `set` a wrong total counts as one lost submission."""
    scores: dict[str, set[int]] = {}
    for ack in acks:
        scores.setdefault(ack.submission.user_id, set()).add(ack.submission.score)
    lost = doubled = 0
    for user in set(expected) | set(got):
        want, have = expected.get(user), got.get(user)
        if want == have:
            continue
        if operator != "incr" or want is None:
            if want is None:
                doubled += 1  # a user nobody acknowledged a score for
            else:
                lost += 1
            continue
        diff = (have or 0) - want
        unit = next(iter(scores[user])) if len(scores.get(user, ())) == 1 else 0
        count = abs(diff) // unit if unit and diff % unit == 0 else 1
        if diff < 0:
            lost += count
        else:
            doubled += count
    return lost, doubled


def rank_key(order: str, user: str, stored: StoredTotal) -> tuple[int, int, str]:
    """docs/architecture.md, "Ranks and ties": total in the board's order, then who reached it first, then user id."""
    total = -stored.total if order == "desc" else stored.total
    return (total, stored.reached_at_us or 0, user)


@dataclass
class Snapshot:
    """One full read of a board: the top pages, every user's entry and window, the store."""

    users: int  # the board's count
    page: list[Entry]
    entries: dict[str, Entry | None]
    arounds: dict[str, list[Entry]]
    store: dict[str, StoredTotal] | None


def rank_errors(snap: Snapshot, order: str, radius: int) -> list[str]:
    """Every way the ranks differ from those of one plain sorted list."""
    errors: list[str] = []
    page = snap.page
    if [e.rank for e in page] != list(range(1, len(page) + 1)):
        errors.append(f"page ranks are not 1..{len(page)}: {[e.rank for e in page][:20]}")
    if snap.users != len(page):
        errors.append(f"the board counts {snap.users} users, the pages hold {len(page)}")
    scores = [e.score for e in page]
    if scores != sorted(scores, reverse=order == "desc"):
        errors.append(f"page not sorted {order}: {scores[:20]}")
    store = snap.store
    if store is not None and all(s.reached_at_us is not None for s in store.values()):
        plain = sorted(store, key=lambda u: rank_key(order, u, store[u]))
        if [e.user_id for e in page] != plain:
            errors.append(f"page order {[e.user_id for e in page][:10]}… is not the store's {plain[:10]}…")
    for i, want in enumerate(page):
        got = snap.entries.get(want.user_id)
        if got != want:
            errors.append(f"user {want.user_id}: entry {got} but page has {want}")
        window = snap.arounds.get(want.user_id)
        if window is not None and window != page[max(0, i - radius) : i + radius + 1]:
            errors.append(f"user {want.user_id}: around {[e.rank for e in window]} is not the page's")
    for user, entry in snap.entries.items():
        if entry is not None and user not in {e.user_id for e in page}:
            errors.append(f"user {user} has entry {entry} but is on no page")
    return errors


@dataclass
class CheckResult:
    acked: int
    expected_users: int
    lost: int  # in the rank index
    doubled: int
    store_lost: int | None  # None: no store reader
    store_doubled: int | None
    wrong: dict[str, tuple[int | None, int | None]]  # user -> (expected, rank index)
    errors: list[str]  # ranks, windows, counts, store vs index
    converge_s: float | None  # None: never matched within the time-out
    reads: int = 0
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def exact(self) -> bool:
        return (
            self.lost == self.doubled == 0
            and not self.store_lost
            and not self.store_doubled
            and not self.errors
            and self.converge_s is not None
        )

    def summary(self) -> str:
        return (
            f"acked {self.acked}, users {self.expected_users}, lost {self.lost}, doubled {self.doubled}, "
            f"store lost {self.store_lost}, store doubled {self.store_doubled}, converge {self.converge_s}s, "
            f"errors {len(self.errors)}: {self.errors[:3]}, wrong {dict(list(self.wrong.items())[:5])}"
        )


class Checker:
    def __init__(
        self,
        base_url: str,
        board: str,
        *,
        store_reader: StoreReader | None = None,
        client: httpx.Client | None = None,
        radius: int = 2,
    ) -> None:
        self.board = board
        self.store_reader = store_reader
        self.radius = radius
        self._own_client = client is None
        self.client = client or httpx.Client(base_url=base_url, timeout=10)
        settings = self._get(f"/v1/boards/{board}")
        self.operator: str = settings["operator"]
        self.order: str = settings["order"]

    def _get(self, path: str, **params: Any) -> Any:
        answer = self.client.get(path, params=params)
        answer.raise_for_status()
        return answer.json()

    def page(self) -> list[Entry]:
        entries: list[Entry] = []
        while True:
            got = self._get(f"/v1/boards/{self.board}/top", limit=1000, offset=len(entries))["entries"]
            entries += [entry_of(e) for e in got]
            if len(got) < 1000:
                return entries

    def snapshot(self, users: Iterable[str]) -> Snapshot:
        page = self.page()
        count = self._get(f"/v1/boards/{self.board}")["users"]
        entries: dict[str, Entry | None] = {}
        arounds: dict[str, list[Entry]] = {}
        for user in sorted(set(users) | {e.user_id for e in page}):
            answer = self.client.get(f"/v1/boards/{self.board}/users/{user}")
            if answer.status_code == 404:
                entries[user] = None
                continue
            answer.raise_for_status()
            entries[user] = entry_of(answer.json())
            window = self._get(f"/v1/boards/{self.board}/users/{user}/around", radius=self.radius)["entries"]
            arounds[user] = [entry_of(e) for e in window]
        store = dict(self.store_reader(self.board)) if self.store_reader else None
        return Snapshot(count, page, entries, arounds, store)

    def wait_and_check(
        self, acks: list[Ack], *, since: float | None = None, timeout_s: float = 60.0, quiet_s: float = 1.0
    ) -> CheckResult:
        """Poll the top pages until they equal the expected totals and stay unchanged for
        `quiet_s` (or the time-out passes, or they stop changing without matching);
        then check everything. `converge_s` counts from `since` (default: the last ack)
        to the first read of the final state."""
        expected = expected_totals(acks, self.operator, self.order)
        since = since if since is not None else max((a.acked_at for a in acks), default=time.monotonic())
        deadline = time.monotonic() + timeout_s
        last: dict[str, int] | None = None
        changed_at = time.monotonic()
        reads = 0
        while True:
            totals = {e.user_id: e.score for e in self.page()}
            reads += 1
            now = time.monotonic()
            if totals != last:
                last, changed_at = totals, now
            stable = now - changed_at >= quiet_s
            if (stable and totals == expected) or now > deadline:
                break
            time.sleep(0.05)
        converged = last == expected and stable
        return self.check(acks, expected, converge_s=changed_at - since if converged else None, reads=reads)

    def check(
        self, acks: list[Ack], expected: dict[str, int], *, converge_s: float | None, reads: int = 0
    ) -> CheckResult:
        snap = self.snapshot(expected)
        got = {e.user_id: e.score for e in snap.page}
        lost, doubled = miscounts(acks, self.operator, expected, got)
        store_lost = store_doubled = None
        errors = rank_errors(snap, self.order, self.radius)
        if snap.store is not None:
            store_totals = {u: s.total for u, s in snap.store.items()}
            store_lost, store_doubled = miscounts(acks, self.operator, expected, store_totals)
            if store_totals != got:
                errors.append("the rank index's totals differ from the store's")
        wrong = {u: (expected.get(u), got.get(u)) for u in set(expected) | set(got) if expected.get(u) != got.get(u)}
        return CheckResult(
            acked=len(acks),
            expected_users=len(expected),
            lost=lost,
            doubled=doubled,
            store_lost=store_lost,
            store_doubled=store_doubled,
            wrong=wrong,
            errors=errors,
            converge_s=converge_s,
            reads=reads,
        )

    def close(self) -> None:
        if self._own_client:
            self.client.close()

    def __enter__(self) -> Checker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def cassandra_store_reader(hosts: list[str], keyspace: str, auth: tuple[str, str] | None = None) -> StoreReader:
    """The distributed profile's store: a board's totals, read slot by slot (the
    partitions `podium/store/cassandra.py` spreads a board over), logged in as `auth`."""
    from cassandra.auth import PlainTextAuthProvider
    from cassandra.cluster import Cluster

    from podium.plumbing import names
    from podium.store.cassandra import SLOTS

    def read(board: str) -> dict[str, StoredTotal]:
        cluster = Cluster(hosts, auth_provider=PlainTextAuthProvider(*auth) if auth else None)
        try:
            session = cluster.connect(keyspace)
            query = session.prepare(
                f"SELECT user_id, total, reached_at_us, removed FROM {names.TOTALS_TABLE} WHERE board = ? AND slot = ?"
            )
            found: dict[str, StoredTotal] = {}
            for slot in range(SLOTS):
                for row in session.execute(query, (board, slot)):
                    if not row.removed:
                        found[row.user_id] = StoredTotal(row.total, row.reached_at_us)
            return found
        finally:
            cluster.shutdown()

    return read
