"""tier_changed deliveries (issue 22): the rank-worker's part.

The rank-worker calls `record` for each board of a batch *before* it applies the batch to
the rank index. For a board whose tiers are all by score (domain/tier_changes.py says why
not by place) and only while some webhook wants `tier_changed`, it reads what the index
holds of the batch's users (their newest position and score), works out each user's tier
changes, and records one delivery per change and webhook in the webhook store, under an
id derived from the webhook, the board, the user and the total that made the change
(version and time written: the same whether the feed brings it as that total or as a step
of a later one, domain/webhooks.py). The api processes' sender loop (usecases/deliveries.py) sends
it, signed, with a lease, retried for a day, as it sends period_ended.

Why before the apply: the feed's position is committed only after the apply, so a worker
killed anywhere in between reads the batch again:

- killed before the apply: the index still holds what it held, the same changes come out
  under the same ids, and the store keeps the first of each (insert if absent);
- killed after the apply: the index holds the batch's totals, none of them is newer than
  what it holds, nothing is recorded again, and nothing was lost (recorded before).

So a change is recorded once, whatever batch it is read in. A failing webhook store fails
the batch (it is read again), never skips the change.

The common path pays nothing: a board without tiers is not looked at, and the webhooks are
read at most every `hooks_every_s` (one small read), so with none wanting the event no
index or store call is made for it.
"""

from __future__ import annotations

import functools
import logging
import time
from collections import defaultdict
from collections.abc import Sequence

import orjson

from podium.cohorts.base import CohortStore
from podium.domain import tier_changes as tc
from podium.domain import webhooks as wh
from podium.domain.boards import Board
from podium.domain.totals import Total
from podium.index.base import RankIndex
from podium.plumbing import bounded
from podium.usecases.cohorts import base_name
from podium.webhooks.base import Delivery, WebhookStore

log = logging.getLogger("podium.usecases.tier_changes")

HOOKS_EVERY_S = 1.0  # how stale the list of webhooks may be: a new webhook hears of changes within this


class TierChanges:
    def __init__(
        self,
        hooks: WebhookStore,
        index: RankIndex,
        cohorts: CohortStore | None = None,
        *,
        hooks_every_s: float = HOOKS_EVERY_S,
    ) -> None:
        self._hooks = hooks
        self._index = index
        self._cohorts = cohorts
        self._hooks_every_s = hooks_every_s
        self._wanting: list[wh.Webhook] = []
        self._read_at = -hooks_every_s  # when `_wanting` was read (monotonic)

    async def record(self, board: Board, totals: Sequence[Total]) -> int:
        """Record the deliveries of the tier changes in `totals` (one board's part of a batch,
        not yet applied to the index); how many were new."""
        if not tc.sends_changes(board):
            return 0
        hooks = await self._wanting_hooks()
        if not hooks:
            return 0
        by_user: dict[str, list[Total]] = defaultdict(list)
        for t in totals:
            by_user[t.user_id].append(t)
        users = list(by_user)
        held = await self._held(board, users)
        found = [c for u in users for c in tc.changes(board, held[u], by_user[u])]
        if not found:
            return 0
        where = tc.where(board)
        added = 0
        for change in found:
            owed = [h for h in hooks if change.total.updated_at_us > h.created_at_us]  # changes after it was made
            if not owed:
                continue
            cohort = await self._cohort(board, change.total.user_id)
            for hook in owed:
                added += await self._record(hook, where, change, cohort)
        return added

    async def _wanting_hooks(self) -> list[wh.Webhook]:
        if time.monotonic() - self._read_at >= self._hooks_every_s:
            self._wanting = [h for h in await self._hooks.webhooks() if h.wants(wh.TIER_CHANGED)]
            self._read_at = time.monotonic()
        return self._wanting

    async def _held(self, board: Board, users: list[str]) -> dict[str, tc.Held]:
        """What the index holds of each user: its newest position, its score and its version."""
        entries = await self._index.entries(board, users)
        newest = await bounded.gather(functools.partial(self._index.newest, board, u) for u in users)
        return {
            u: tc.Held(at[0] if at else None, e.score if e is not None else None, at[1] if at else None)
            for u, e, at in zip(users, entries, newest, strict=True)
        }

    async def _cohort(self, board: Board, user_id: str) -> int | None:
        if self._cohorts is None or board.cohort_size is None:
            return None
        return await self._cohorts.cohort_of(base_name(board), user_id)

    async def _record(self, hook: wh.Webhook, where: tc.Where, change: tc.TierChange, cohort: int | None) -> int:
        subject = where.subject(change)
        delivery_id = wh.tier_delivery_id(hook, subject, change.total.updated_at_us)
        body = orjson.dumps(body_of(delivery_id, where, change, cohort)).decode()
        added = await self._hooks.add_delivery(
            Delivery(delivery_id, hook.name, wh.TIER_CHANGED, subject, body, time.time_ns() // 1000)
        )
        if added:
            log.info("webhook delivery recorded", extra={"delivery": delivery_id, "webhook": hook.name})
        return int(added)


def body_of(delivery_id: str, where: tc.Where, change: tc.TierChange, cohort: int | None) -> dict[str, object]:
    """The body POSTed (contract: api/contract/webhooks.py, TierChanged)."""
    t = change.total
    return {
        "id": delivery_id,
        "event": wh.TIER_CHANGED,
        "board": where.board,
        "window": where.window,
        "period": where.period,
        "user_id": t.user_id,
        "cohort": str(cohort) if cohort is not None else None,
        "tier": change.tier,
        "previous_tier": change.previous,
        "score": t.total,
        "subscore": t.subscore,
        "version": t.version,
        "at_us": t.updated_at_us,
    }
