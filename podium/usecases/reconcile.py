"""The reconciler: compare the rank index with the store, the source of truth, and
repair what drifted (design invariant 2).

A board of up to `full_check_users` live users is checked user by user: every
user's entry, and every page of the index in rank order against the store's
totals sorted by the board's rule. A bigger board: its count, the top and the
bottom `edge_users` ranks and a random sample of `sample_users` users. A count
that differs from the store's sends a big board to the full check too, since only
reading every page tells which users are extra or counted twice.

Kinds of drift, per user:
  missing      the store ranks the user; the index does not answer for them
  extra        the index ranks a user the store does not know or has removed
  wrong_score  the index gives another score than the store's total
  duplicate    the user appears more than once in the index's pages
  wrong_rank   the score is right but the place is not (a wrong tie-break)

With a social index, each board's friends boards are checked too (social/check.py):
every user's with a friend list on a small graph, a sample on a big one; a drifted one is
recomputed from the store's list and totals.

A live board is never a snapshot: the index lags the store by the events in
flight, and a user can move between two pages as they are read. So a board with
drift is checked again after `settle_s`, and only drift found both times counts.

Repair is `RankIndex.repair` with the store's totals as read. If the rank-worker
applied a newer total meanwhile, the repair may set an older version than the
index held; so the store is read again after the repair and any newer total is
applied the ordinary way (`apply`, newer versions only). A change the feed
delivers later is newer than the repaired one and applies as usual.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from podium.domain.boards import Board
from podium.domain.ordering import total_key
from podium.domain.totals import Total
from podium.index.base import Entry, RankIndex
from podium.social.base import SocialIndex
from podium.social.check import FriendsGraph, drifted, repair
from podium.store.base import Store, board_totals
from podium.usecases.board_settings import Boards
from podium.usecases.period_boards import with_periods

log = logging.getLogger("podium.usecases.reconcile")

KINDS = ("missing", "extra", "wrong_score", "duplicate", "wrong_rank")


@dataclass(frozen=True, slots=True)
class ReconcileSettings:
    full_check_users: int = 10_000  # boards up to this many live users: every user
    edge_users: int = 1_000  # bigger boards: this many ranks at the top and at the bottom
    sample_users: int = 1_000  # … and this many users drawn at random
    page_size: int = 1_000
    settle_s: float = 0.5  # before confirming drift on a live board
    entry_reads: int = 100  # entry reads in flight at once


@dataclass(frozen=True, slots=True)
class Drift:
    user_id: str
    kind: str
    store: dict[str, Any] | None  # {"score", "version"} of a live total, {"removed", "version"}, or None
    index: dict[str, Any] | None  # {"rank", "score", "copies"} as the index answers, or None


@dataclass(slots=True)
class BoardReport:
    board: str
    check: str  # "every_user" or "sampled"
    store_users: int
    index_users: int
    checked_users: int = 0
    checked_ranks: int = 0
    drift: list[Drift] = field(default_factory=list)
    repaired: int = 0
    remaining: int = 0  # drift found again after the repair (0: the board is exact)
    seconds: float = 0.0
    # Friends boards (with a social index): how they were checked, how many, whose drifted.
    friends_check: str = ""
    friends_checked: int = 0
    friends_drift: list[str] = field(default_factory=list)
    friends_remaining: int = 0


@dataclass(slots=True)
class Report:
    started_at: str
    dry_run: bool
    boards: list[BoardReport]
    seconds: float = 0.0

    @property
    def drift(self) -> int:
        return sum(len(b.drift) for b in self.boards)

    @property
    def remaining(self) -> int:
        return sum(b.remaining + b.friends_remaining for b in self.boards)

    def _friends_totals(self) -> dict[str, int]:
        """Only when friends boards were checked (a reconciler with a social index)."""
        if not any(b.friends_check for b in self.boards):
            return {}
        return {
            "friends_boards_checked": sum(b.friends_checked for b in self.boards),
            "friends_boards_drift": sum(len(b.friends_drift) for b in self.boards),
        }

    def to_json(self) -> dict[str, Any]:
        by_kind = dict.fromkeys(KINDS, 0)
        for b in self.boards:
            for d in b.drift:
                by_kind[d.kind] += 1
        return {
            "started_at": self.started_at,
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            "totals": {
                "boards": len(self.boards),
                "checked_users": sum(b.checked_users for b in self.boards),
                "checked_ranks": sum(b.checked_ranks for b in self.boards),
                "drift": self.drift,
                "repaired": sum(b.repaired for b in self.boards),
                "remaining": self.remaining,
                "by_kind": by_kind,
                **self._friends_totals(),
            },
            "boards": [{**asdict(b), "seconds": round(b.seconds, 3)} for b in self.boards],
        }


@dataclass(slots=True)
class _Found:
    """One pass over a board: what was read, and the drift in it."""

    totals: dict[str, Total]
    check: str
    store_users: int
    index_users: int
    checked_users: int
    checked_ranks: int
    drift: list[Drift]


class Reconciler:
    def __init__(
        self,
        store: Store,
        boards: Boards,
        index: RankIndex,
        settings: ReconcileSettings | None = None,
        social: SocialIndex | None = None,
    ) -> None:
        self._store = store
        self._boards = boards
        self._index = index
        self._social = social
        self.settings = settings or ReconcileSettings()
        self._running = asyncio.Lock()  # the schedule and an operator never reconcile at once
        self._rng = random.Random()

    async def run(self, board_names: Sequence[str] | None = None, *, dry_run: bool = False) -> Report:
        """Check (and unless `dry_run`, repair) the named boards, or every board."""
        async with self._running:
            started = time.monotonic()
            report = Report(datetime.now(UTC).isoformat(timespec="seconds"), dry_run, [])
            names = list(board_names) if board_names is not None else await self._store.board_names()
            graph = None
            if self._social is not None:
                graph = await FriendsGraph.read(
                    self._store,
                    full_check_users=self.settings.full_check_users,
                    sample_users=self.settings.sample_users,
                    seed=self._rng.random(),
                )
            for board in await with_periods(self._boards, names):  # each board's window periods too
                result = await self.board(board, dry_run=dry_run)
                if graph is not None:
                    await self._friends_boards(board, graph, result, dry_run=dry_run)
                report.boards.append(result)
            report.seconds = time.monotonic() - started
            return report

    async def board(self, board: Board, *, dry_run: bool = False) -> BoardReport:
        started = time.monotonic()
        found = await self._confirmed(board)
        result = BoardReport(
            board.name,
            found.check,
            found.store_users,
            found.index_users,
            found.checked_users,
            found.checked_ranks,
            found.drift,
        )
        if found.drift and not dry_run:
            result.repaired = await self._repair(board, found)
            result.remaining = len((await self._confirmed(board)).drift)
        elif found.drift:
            result.remaining = len(found.drift)
        result.seconds = time.monotonic() - started
        return result

    async def _friends_boards(self, board: Board, graph: FriendsGraph, result: BoardReport, *, dry_run: bool) -> None:
        """Check the board's friends boards; drift found twice, `settle_s` apart, is repaired."""
        assert self._social is not None
        started = time.monotonic()
        totals = {t.user_id: t for t in await board_totals(self._store, board.name)}
        wrong = await drifted(self._social, board, totals, graph, graph.checked)
        if wrong:
            await asyncio.sleep(self.settings.settle_s)
            totals = {t.user_id: t for t in await board_totals(self._store, board.name)}
            wrong = await drifted(self._social, board, totals, graph, wrong)
        result.friends_check, result.friends_checked, result.friends_drift = graph.check, len(graph.checked), wrong
        if wrong and not dry_run:
            await repair(self._social, board, totals, graph, wrong)
            result.friends_remaining = len(await drifted(self._social, board, totals, graph, wrong))
            log.info("friends boards repaired", extra={"board": board.name, "users": len(wrong)})
        else:
            result.friends_remaining = len(wrong)
        result.seconds += time.monotonic() - started

    async def _confirmed(self, board: Board) -> _Found:
        """Drift found twice, `settle_s` apart: what the events in flight explain is not drift."""
        seed = self._rng.random()  # the same sample both times
        first = await self._find(board, seed)
        if not first.drift:
            return first
        await asyncio.sleep(self.settings.settle_s)
        second = await self._find(board, seed)
        before = {(d.user_id, d.kind) for d in first.drift}
        second.drift = [d for d in second.drift if (d.user_id, d.kind) in before]
        return second

    async def _repair(self, board: Board, found: _Found) -> int:
        users = {d.user_id: found.totals.get(d.user_id) for d in found.drift}
        await self._index.repair(board, users)
        # The re-check: a total the store got meanwhile may be newer than the one repaired.
        fresh = await self._store.load_totals([(board.name, u) for u in users])
        newer = []
        for (_, user_id), t in fresh.items():
            repaired = users[user_id]
            if repaired is None or t.version > repaired.version:
                newer.append(t)
        if newer:
            await self._index.apply(board, newer)
        log.info("drift repaired", extra={"board": board.name, "users": len(users), "newer_since": len(newer)})
        return len(users)

    async def _find(self, board: Board, seed: float) -> _Found:
        s = self.settings
        totals = {t.user_id: t for t in await board_totals(self._store, board.name)}
        live = sorted((t for t in totals.values() if t.ranked), key=lambda t: total_key(board, t))
        index_users = await self._index.count(board)
        full = len(live) <= s.full_check_users or index_users != len(live)
        if full:
            pages = await self._ranks(board, 1, None)
            users = set(totals) | {e.user_id for e in pages}
        else:
            edge = min(s.edge_users, len(live) // 2)
            top = await self._ranks(board, 1, edge)
            bottom = await self._ranks(board, index_users - edge + 1, edge)
            pages = top + bottom
            sample = random.Random(seed).sample(live, min(s.sample_users, len(live)))
            wanted = live[:edge] + live[len(live) - edge :] + sample
            users = {t.user_id for t in wanted} | {e.user_id for e in pages}
        entries = await self._entries(board, sorted(users))
        drift = _drift(board, totals, live, pages, entries, full=full)
        return _Found(
            totals, "every_user" if full else "sampled", len(live), index_users, len(users), len(pages), drift
        )

    async def _ranks(self, board: Board, first_rank: int, count: int | None) -> list[Entry]:
        """`count` entries from `first_rank` on, a page at a time (None: to the end)."""
        out: list[Entry] = []
        rank = max(first_rank, 1)
        while count is None or len(out) < count:
            size = self.settings.page_size if count is None else min(self.settings.page_size, count - len(out))
            page = await self._index.page(board, rank, size)
            out += page
            if len(page) < size:
                break
            rank += size
        return out

    async def _entries(self, board: Board, users: list[str]) -> dict[str, Entry | None]:
        found: dict[str, Entry | None] = {}
        step = self.settings.entry_reads
        for i in range(0, len(users), step):
            chunk = users[i : i + step]
            answers = await asyncio.gather(*(self._index.entry(board, u) for u in chunk))
            found.update(zip(chunk, answers, strict=True))
        return found


def _drift(
    board: Board,
    totals: dict[str, Total],
    live: list[Total],
    pages: list[Entry],
    entries: dict[str, Entry | None],
    *,
    full: bool,
) -> list[Drift]:
    """Compare what the index answered with the store's totals (pure)."""
    copies: dict[str, list[Entry]] = defaultdict(list)
    for listed in {x.rank: x for x in pages}.values():  # the top and bottom may overlap
        copies[listed.user_id].append(listed)
    drift: dict[str, Drift] = {}

    def found(user_id: str, kind: str) -> None:
        t = totals.get(user_id)
        store = None if t is None else {"removed": True, "version": t.version}
        if t is not None and not t.removed:
            store = {"score": t.total, "version": t.version}
        seen = copies.get(user_id, [])
        shown = entries.get(user_id) or (seen[0] if seen else None)
        index = None if shown is None else {"rank": shown.rank, "score": shown.score, "copies": len(seen)}
        drift[user_id] = Drift(user_id, kind, store, index)

    for user_id, e in entries.items():
        t = totals.get(user_id)
        seen = copies.get(user_id, [])
        if t is not None and t.hidden and not t.removed:
            if seen or (e is not None and not e.hidden):  # shown to others: the ban leaked
                found(user_id, "extra")
            continue
        if t is None or t.removed:
            if e is not None or seen:
                found(user_id, "extra")
        elif e is None and not seen:
            found(user_id, "missing")
        elif len(seen) > 1:
            found(user_id, "duplicate")
        elif e is None:
            found(user_id, "missing")
        elif e.score != t.total or any(x.score != t.total for x in seen):
            found(user_id, "wrong_score")
        elif full and not seen:
            found(user_id, "missing")  # it answers for the user, but no page lists them
        elif seen and seen[0].rank != e.rank:
            found(user_id, "wrong_rank")
    # Among the users with nothing else wrong, the index's order must be the board's rule.
    clean = [e.user_id for e in pages if e.user_id not in drift]
    rule = sorted(clean, key=lambda u: total_key(board, totals[u]))
    for got, want in zip(clean, rule, strict=True):
        if got != want:
            found(got, "wrong_rank")
    if not drift:  # nothing shifts the ranks: each must be exactly the store's
        rank_of = {t.user_id: i + 1 for i, t in enumerate(live)}
        # A hidden user's own entry has its own view's rank, which no one else sees.
        for e in [*pages, *(x for x in entries.values() if x is not None and not x.hidden)]:
            if rank_of.get(e.user_id) != e.rank:
                found(e.user_id, "wrong_rank")
    return sorted(drift.values(), key=lambda d: (d.kind, d.user_id))


def summary(report: dict[str, Any]) -> str:
    """The report as a table, one line a board, then the totals."""
    lines = [f"{'board':<24} {'check':<10} {'users':>9} {'index':>9} {'checked':>8} {'drift':>6} {'repaired':>8}"]
    for b in report["boards"]:
        lines.append(
            f"{b['board']:<24} {b['check']:<10} {b['store_users']:>9} {b['index_users']:>9} "
            f"{b['checked_users']:>8} {len(b['drift']):>6} {b['repaired']:>8}"
        )
        for d in b["drift"]:
            lines.append(f"  {d['kind']:<12} {d['user_id']:<24} store {d['store']}  index {d['index']}")
    t = report["totals"]
    kinds = ", ".join(f"{k} {n}" for k, n in t["by_kind"].items() if n)
    verdict = "dry run, nothing repaired" if report["dry_run"] else f"{t['repaired']} repaired, {t['remaining']} left"
    friends = ""
    if t.get("friends_boards_checked"):
        friends = f"; {t['friends_boards_checked']} friends boards checked, {t['friends_boards_drift']} drifted"
    lines.append(
        f"{t['boards']} board(s), {t['checked_users']} users checked, {t['drift']} drifted"
        + (f" ({kinds})" if kinds else "")
        + friends
        + f"; {verdict}"
    )
    return "\n".join(lines)


def report_path(data: Path) -> Path:
    """Where a report goes by default: under the data directory, named by its time."""
    return data / "reconcile" / f"report-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"


def write_report(report: dict[str, Any], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    return path
