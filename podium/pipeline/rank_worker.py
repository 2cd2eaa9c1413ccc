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
from podium.domain.totals import Total, newest_per_user
from podium.errors import BackendUnavailable
from podium.index.base import RankIndex
from podium.live.base import Applied, LiveHub
from podium.plumbing import metrics
from podium.plumbing.together import together
from podium.social.base import SocialIndex
from podium.usecases.board_settings import Boards
from podium.usecases.standings import Standings
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
    ) -> None:
        self._feed = feed
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
            live = self._live if board.parent is None else None  # live follows all-time
            if self._social is not None:
                # Every total, not only those new to the rank index: after a crash between the
                # two applies the redelivered batch is stale there but not yet fanned out. The
                # two are independent: each one's round trips and WAIT overlap the other's.
                (done, ranks), _ = await together(
                    self._apply(board, totals, ranked=live is not None), self._social.apply(board, totals)
                )
            else:
                done, ranks = await self._apply(board, totals, ranked=live is not None)
            applied += len(done)
            if live is not None and done:
                # Before visibility: a `wait=true` answer implies its delta has been published.
                await self._publish(live, board, done, ranks)
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

    async def _publish(self, live: LiveHub, board: Board, done: list[Total], ranks: dict[str, int]) -> None:
        """Hand the live hub what was applied, each with the rank it now has (`ranks`, read
        with the apply: per-user reads were most of the worker's time, bench; a board whose
        equals share ranks takes one more read per distinct total). Live updates
        are best effort beside the ranking: a failing hub is logged, never retried (a
        subscriber's top and own entry are read afresh with its next frame)."""
        # A hidden user's rank is the rank it would have: its own view. The change carries the
        # ban, and every other subscriber is shown a removal instead (Change.seen_by).
        # One change per user: the rank is the newest version's, numbered under the tie policy.
        try:
            ranks = await self._standings.applied(board, done, ranks)
        except BackendUnavailable as exc:
            log.warning("live hub publish skipped: ranks unreadable", extra={"board": board.name, "error": str(exc)})
            return
        applied = [
            Applied(t.user_id, t.total, ranks.get(t.user_id), t.version, t.hidden) for t in newest_per_user(done)
        ]
        try:
            await live.publish(board.name, applied)
        except BackendUnavailable as exc:
            log.warning("live hub publish failed", extra={"board": board.name, "error": str(exc)})
