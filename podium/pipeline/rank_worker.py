"""change feed → rank index and social index: keep every board's ranking, and every
friends board, equal to the store's totals.

Totals are absolute and versioned, and the index applies only newer versions,
so a change seen twice, late or out of order does no harm. The feed position is
committed only after the index has applied the batch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from dataclasses import dataclass

from podium.cdc.base import ChangeFeed
from podium.domain.boards import Board
from podium.domain.totals import Total, newest_per_user, steps_of
from podium.errors import BackendUnavailable
from podium.history.base import Point, RankHistory
from podium.index.base import RankIndex
from podium.live.base import Applied, LiveHub
from podium.plumbing import metrics
from podium.plumbing.together import together
from podium.social.base import SocialIndex
from podium.usecases.board_settings import Boards
from podium.usecases.standings import Standings
from podium.usecases.tier_changes import TierChanges
from podium.visibility.base import Visibility

log = logging.getLogger("podium.pipeline.rank_worker")


@dataclass(frozen=True, slots=True)
class RankWorkerSettings:
    batch_size: int = 2000
    poll_timeout_s: float = 0.5


class RankWorker:
    def __init__(
        self,
        feed: ChangeFeed,
        index: RankIndex,
        boards: Boards,
        visibility: Visibility,
        settings: RankWorkerSettings,
        social: SocialIndex | None = None,
        live: LiveHub | None = None,
        history: RankHistory | None = None,
        tiers: TierChanges | None = None,
    ) -> None:
        self._feed = feed
        self._tiers = tiers  # None: no webhook store here, no tier_changed recorded
        self._history = history  # None: history is off (PODIUM_HISTORY_POINTS=0), nothing read for it
        self._live = live
        self._social = social
        self._index = index
        self._standings = Standings(index)  # the changes' ranks, as every reader numbers them
        self._boards = boards
        self._visibility = visibility
        self._settings = settings

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            await self.run_once()

    async def recover(self) -> None:
        await self._feed.rewind()

    async def run_once(self) -> int:
        changes = await self._feed.poll(self._settings.batch_size, self._settings.poll_timeout_s)
        if not changes:
            return 0
        by_board: dict[str, list[Total]] = defaultdict(list)
        for change in changes:
            by_board[change.total.board].append(change.total)
        applied = 0
        for name, totals in by_board.items():
            board = await self._boards.find(name)
            if board is None:
                log.error("skipping changes for unknown board", extra={"board": name})
                continue
            if self._tiers is not None:
                # Before the apply, which is what tells a change from one applied already
                # (podium/usecases/tier_changes.py): a failure here fails the batch, read again.
                await self._tiers.record(board, totals)
            live = self._live if board.parent is None else None  # live follows all-time
            ranked = live is not None or self._history is not None
            if self._social is not None:
                # Every total, not only those new to the rank index: after a crash between the
                # two applies the redelivered batch is stale there but not yet fanned out. The
                # two are independent: each one's round trips and WAIT overlap the other's.
                (done, ranks), _ = await together(
                    self._apply(board, totals, ranked=ranked), self._social.apply(board, totals)
                )
            else:
                done, ranks = await self._apply(board, totals, ranked=ranked)
            applied += len(done)
            if self._history is not None and len(done) < len(totals):
                await self._record_held(board, totals, done)
            if ranked and done:
                shown = await self._shown_ranks(board, done, ranks)
                if self._history is not None and shown is not None:
                    # Before the feed's commit: a batch redelivered after a crash writes the same
                    # points again (keyed by version), never a second one.
                    points = history_points(board, done, shown)
                    points += await self._overtaken_points(board, totals, done)
                    await self._history.record(points)
                if live is not None:
                    # Before visibility: a `wait=true` answer implies its delta has been published.
                    await self._publish(live, board, done, shown)
            self._visibility.applied(totals)
            now_us = time.time_ns() // 1000
            for t in done:
                if t.updated_at_us:
                    metrics.APPLY_LATENCY.observe(max(0, now_us - t.updated_at_us) / 1e6)
        metrics.RANK_WORKER_CHANGES.labels("applied").inc(applied)
        metrics.RANK_WORKER_CHANGES.labels("stale").inc(len(changes) - applied)
        await self._feed.commit(changes)
        return applied

    async def _apply(self, board: Board, totals: list[Total], *, ranked: bool) -> tuple[list[Total], dict[str, int]]:
        if ranked:  # the ranks with the apply: on a one-bucket board, from the same script
            return await self._index.apply_ranked(board, totals)
        return await self._index.apply(board, totals), {}

    async def _shown_ranks(self, board: Board, done: list[Total], ranks: dict[str, int]) -> dict[str, int] | None:
        """The rank each applied user now has, as every reader numbers it (`ranks`, read with
        the apply: per-user reads were most of the worker's time, bench; a board whose equals
        share ranks takes one more read per distinct total). None: unreadable now; the live
        stream and the history are best effort beside the ranking, so that is logged and the
        batch goes on (a subscriber's top and own entry are read afresh with its next frame)."""
        # A hidden user's rank is the rank it would have: its own view. The change carries the
        # ban, and every other subscriber is shown a removal instead (Change.seen_by).
        try:
            return await self._standings.applied(board, done, ranks)
        except BackendUnavailable as exc:
            log.warning("ranks of applied changes unreadable", extra={"board": board.name, "error": str(exc)})
            return None

    async def _record_held(self, board: Board, totals: list[Total], done: list[Total]) -> None:
        """The points of changes the index did not apply because it holds them already: a
        worker (this one before a crash, or another before a rebalance) applied the batch to
        the index and stopped before writing its points or committing. The index holding
        the change's very position tells it is the newest, so its rank now is its rank
        after it. Changes older than the index's are repeats whose points were written, or
        overtaken ones whose points the newer change's batch wrote: nothing to do. Only
        batches with changes the index refused pay for this read (repeats after a restart,
        and the change feed's own repeats: ~12% of the changes in the bench's pipeline
        stage), one read of the board's held positions, not one a user."""
        assert self._history is not None
        applied = {t.user_id for t in done}
        stale = [t for t in newest_per_user(totals) if t.user_id not in applied and not t.removed]
        if not stale:
            return
        try:
            held_at = await self._index.positions(board, [t.user_id for t in stale])
            held = [t for t, at in zip(stale, held_at, strict=True) if at == t.position]
            if not held:
                return
            entries = await self._standings.entries(board, [t.user_id for t in held])
        except BackendUnavailable as exc:
            log.warning("held changes' ranks unreadable", extra={"board": board.name, "error": str(exc)})
            return
        shown = {e.user_id: e.rank for e in entries if e is not None}
        points = history_points(board, held, shown) + await self._overtaken_points(board, totals, held)
        await self._history.record(points)

    async def _overtaken_points(self, board: Board, totals: list[Total], done: list[Total]) -> list[Point]:
        """Points for the changes a newer one of the same user overtook: within this batch (a
        user who scored twice between two polls), or within the db-worker's batch that wrote
        it (`Total.steps`: the store holds one total a user a batch). Every change of a total
        has its point. Its
        rank is the one its total has among the others after the batch (podium/usecases/
        standings.py, `rank_among_others`): exact when nobody else moved in the batch."""
        newest = {t.user_id: t for t in done}
        passed = [s for t in totals if t.user_id in newest for s in steps_of(t)]
        older = [
            t
            for t in [*totals, *passed]
            if t.user_id in newest and t.version < newest[t.user_id].version and not t.removed
        ]
        if not older:
            return []
        older = list({(t.user_id, t.version): t for t in older}.values())  # a change seen twice: one point
        try:
            ranks = await self._standings.ranks_among_others(board, [(newest[t.user_id], t) for t in older])
        except BackendUnavailable as exc:
            log.warning("ranks of overtaken changes unreadable", extra={"board": board.name, "error": str(exc)})
            return []
        return [
            Point(board.name, t.user_id, t.updated_at_us, t.version, t.total, rank)
            for t, rank in zip(older, ranks, strict=True)
        ]

    async def _publish(self, live: LiveHub, board: Board, done: list[Total], ranks: dict[str, int] | None) -> None:
        """Hand the live hub what was applied, each with the rank it now has (`ranks`, None:
        unreadable, nothing published). A failing hub is logged, never retried."""
        # One change per user: the rank is the newest version's, numbered under the tie policy.
        if ranks is None:
            return
        applied = [
            Applied(t.user_id, t.total, ranks.get(t.user_id), t.version, t.hidden) for t in newest_per_user(done)
        ]
        try:
            await live.publish(board.name, applied)
        except BackendUnavailable as exc:
            log.warning("live hub publish failed", extra={"board": board.name, "error": str(exc)})


def history_points(board: Board, done: list[Total], ranks: dict[str, int]) -> list[Point]:
    """The rank history's points of an applied batch's newest version of each user, with the
    rank it has now (a removed user has none and gets no point); the older versions of the
    same batch get theirs from `RankWorker._overtaken_points`."""
    return [
        Point(board.name, t.user_id, t.updated_at_us, t.version, t.total, ranks[t.user_id])
        for t in newest_per_user(done)
        if not t.removed and t.user_id in ranks
    ]
