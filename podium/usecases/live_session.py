"""One subscriber's view of a board: a snapshot, then ordered, coalesced deltas with the
events the subscriber cares about. Transport-free: the WebSocket and SSE routes
(podium/api/live.py) only serialise the frames. The frame format is in the README
("Live updates")."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any

from podium.domain.boards import Board, Order
from podium.domain.cohorts import needs_count
from podium.index.base import Entry
from podium.live.base import Change, LiveHub
from podium.usecases.cohorts import Cohorts, CohortView, tiers_of
from podium.usecases.friends import Friends
from podium.usecases.standings import Standings

# How stale a subscriber's friends board may get from other players' changes (its own
# and its friends' changes are sent at once); each refresh reads every friend's rank.
FRIENDS_REFRESH_S = 1.0

Json = dict[str, Any]


class LiveSession:
    def __init__(
        self,
        hub: LiveHub,
        standings: Standings,
        friends: Friends | None,
        board: Board,
        *,
        user_id: str | None,
        top: int,
        max_fps: float,
        resume_from: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        cohort: tuple[Cohorts, int] | None = None,
    ) -> None:
        # Followed within one cohort (issue 22): its top and the subscriber's entry rank the
        # cohort's members, and only their changes are sent, with their ranks in it.
        self._cohort = cohort
        self._view: tuple[int, CohortView] | None = None  # the cohort as read at a seq: once a frame
        self._hub = hub
        self._standings = standings  # every rank sent, numbered under the board's tie policy
        self._friends = friends if user_id is not None else None
        self._board = board
        self._user_id = user_id
        self._top_n = top
        self._interval_s = 1.0 / max_fps
        self._resume_from = resume_from
        self._clock = clock
        self._last_seq = 0
        self._sent_at = float("-inf")
        # What the subscriber was last sent (None: not sent yet).
        self._top: list[Json] | None = None
        self._me: Json | None = None
        self._me_sent = False
        self._friends_board: list[Json] | None = None
        self._friends_read_at = float("-inf")
        # For the events: the friend list, the ranks as of the last frame, the best score seen.
        self._friend_ids: set[str] = set()
        self._ranks: dict[str, int | None] = {}
        self._best: int | None = None

    async def frames(self) -> AsyncIterator[Json]:
        sub = await self._hub.subscribe(self._board.name)
        try:
            yield await self._start()
            while True:
                await sub.wait()
                wait_s = self._sent_at + self._interval_s - self._clock()
                if wait_s > 0:
                    await asyncio.sleep(wait_s)  # coalesce: what arrives meanwhile joins this frame
                lost = sub.history_lost  # taken before take() clears it
                pending, overflowed = sub.take()
                if overflowed:
                    yield await self._snapshot("history_lost" if lost else "too_far_behind")
                    continue
                fresh = [c for c in pending if c.seq > self._last_seq]
                if not fresh:
                    continue
                if any(c.seq != self._last_seq + 1 + i for i, c in enumerate(fresh)):
                    # A message lost between processes (pub/sub): fill the gap from the history.
                    filled = await self._hub.since(self._board.name, self._last_seq)
                    if filled is None:
                        yield await self._snapshot("too_far_behind")
                        continue
                    fresh = filled
                if fresh:
                    frame = await self._delta(fresh)
                    if frame is not None:  # None: none of the changes is the followed cohort's
                        yield frame
        finally:
            self._hub.unsubscribe(sub)

    async def _start(self) -> Json:
        if self._friends is not None and self._user_id is not None:
            self._friend_ids = set(await self._friends.of(self._user_id))
        if self._resume_from is None:
            return await self._snapshot("subscribed")
        missed = await self._hub.since(self._board.name, self._resume_from)
        if missed is None:
            return await self._snapshot("resume_too_old")
        self._last_seq = self._resume_from
        await self._read_ranks()
        resumed = await self._delta(missed, always=True)
        assert resumed is not None
        return resumed

    async def _snapshot(self, reason: str) -> Json:
        # The sequence number first: the state read after it reflects at least its changes;
        # a change both in the state and in a later delta is harmless (deltas are absolute).
        self._last_seq = await self._hub.last_seq(self._board.name)
        self._top = await self._read_top()
        self._me = await self._read_me()
        self._me_sent = True
        self._friends_board = await self._read_friends_board()
        await self._read_ranks()
        self._best = self._me["score"] if self._me is not None else None
        frame: Json = {"type": "snapshot", "reason": reason, "top": self._top, "me": self._me}
        if self._friends is not None:
            frame["friends"] = self._friends_board
        return self._stamp(frame)

    async def _delta(self, changes: list[Change], *, always: bool = False) -> Json | None:
        self._last_seq = changes[-1].seq if changes else self._last_seq
        changes = [c.seen_by(self._user_id) for c in changes]  # a shadow-banned user's: only its own
        if self._cohort is not None:
            changes = await self._cohort_changes(changes)
            if not changes and not always:
                return None
        frame: Json = {"type": "delta", "changes": [c.to_json() for c in changes]}
        top = await self._read_top()
        if top != self._top:
            frame["top"] = self._top = top
        events: list[Json] = []
        if self._user_id is not None:
            events += self._personal_bests(changes)
            me = await self._read_me()
            if me != self._me or not self._me_sent:
                frame["me"] = me
            events += self._entered_top(me)
            self._me, self._me_sent = me, True
            touched = {c.user_id for c in changes} & (self._friend_ids | {self._user_id})
            # Anyone's change can move a friend's global rank: besides changes of the user or
            # a friend (sent at once), read the board again at most once a second.
            stale = self._clock() - self._friends_read_at >= FRIENDS_REFRESH_S
            if touched or stale or self._friends_board is None:
                board = await self._read_friends_board()
                if board != self._friends_board:
                    frame["friends"] = self._friends_board = board
            events += await self._friends_passing({c.user_id for c in changes} & self._friend_ids)
        frame["events"] = events
        return self._stamp(frame)

    def _stamp(self, frame: Json) -> Json:
        self._sent_at = self._clock()
        followed = {"cohort": self._cohort[1]} if self._cohort is not None else {}
        return {
            **frame,
            "board": self._board.name,
            **followed,
            "seq": self._last_seq,
            "at_ms": int(time.time() * 1000),
        }

    async def _cohort_view(self) -> CohortView:
        assert self._cohort is not None
        if self._view is not None and self._view[0] == self._last_seq:
            return self._view[1]
        cohorts, number = self._cohort
        view = await cohorts.view(self._board, number, viewer=self._user_id)
        self._view = (self._last_seq, view)
        return view

    async def _shown(self, entries: list[Entry], cohort: CohortView | None) -> list[Json]:
        """Entries as frames carry them; on a board with tiers, each with its tier."""
        users = None
        if needs_count(self._board.tiers):
            users = cohort.count() if cohort is not None else await self._standings.count(self._board)
        tiers = tiers_of(self._board, entries, users)
        if tiers is None:
            return [e.to_json() for e in entries]
        return [{**e.to_json(), "tier": t} for e, t in zip(entries, tiers, strict=True)]

    async def _cohort_changes(self, changes: list[Change]) -> list[Change]:
        """The changes of the cohort's members, each with its rank within the cohort now. The
        member list first (kept, once the cohort is full): a frame of other cohorts' changes
        alone, most frames on a busy board, reads no totals at all."""
        assert self._cohort is not None
        cohorts, number = self._cohort
        members = set(await cohorts.members(self._board, number))
        ours = [c for c in changes if c.user_id in members]
        if not ours:
            return []
        view = await self._cohort_view()
        ranks = {e.user_id: e.rank for e in view.entries}
        return [replace(c, rank=ranks.get(c.user_id)) for c in ours]

    def _better(self, score: int, than: int | None) -> bool:
        return than is None or (score > than if self._board.order is Order.DESC else score < than)

    def _personal_bests(self, changes: list[Change]) -> list[Json]:
        events = []
        for c in changes:
            if c.user_id == self._user_id and c.rank is not None and self._better(c.score, self._best):
                events.append({"type": "personal_best", "score": c.score, "previous": self._best})
                self._best = c.score
        return events

    def _entered_top(self, me: Json | None) -> list[Json]:
        before = self._ranks.get(self._user_id or "")
        if me is not None and me["rank"] <= self._top_n and (before is None or before > self._top_n):
            return [{"type": "entered_top", "rank": me["rank"], "top": self._top_n}]
        return []

    async def _friends_passing(self, moved: set[str]) -> list[Json]:
        """A friend who was not ahead of the subscriber (behind it, level with it under a shared
        rank, or unranked) and now is."""
        assert self._user_id is not None
        mine_before = self._ranks.get(self._user_id)
        found = await self._read_entries(sorted(moved))
        mine = self._me["rank"] if self._me is not None else None
        self._ranks[self._user_id] = mine
        events = []
        for friend, entry in found.items():
            before, now = self._ranks.get(friend), entry.rank if entry is not None else None
            self._ranks[friend] = now
            passed = mine_before is not None and (before is None or before >= mine_before)
            if passed and now is not None and mine is not None and now < mine:
                events.append({"type": "friend_passed_you", "friend": friend, "friend_rank": now, "rank": mine})
        return events

    async def _read_ranks(self) -> None:
        if self._user_id is None:
            return
        found = await self._read_entries(sorted(self._friend_ids | {self._user_id}))
        self._ranks = {u: e.rank if e is not None else None for u, e in found.items()}

    async def _read_entries(self, users: list[str]) -> dict[str, Entry | None]:
        """The users' entries; a shadow-banned friend has none (only its own view ranks it)."""
        if self._cohort is not None:  # ranked within the cohort: a friend outside it has none
            view = await self._cohort_view()
            return {u: view.entry(u) for u in users}
        entries = await self._standings.entries(self._board, users)
        return {
            u: e if e is None or not e.hidden or u == self._user_id else None
            for u, e in zip(users, entries, strict=True)
        }

    async def _read_top(self) -> list[Json]:
        if self._cohort is not None:
            view = await self._cohort_view()
            return await self._shown(view.page(1, self._top_n), view)
        return await self._shown(await self._standings.page(self._board, 1, self._top_n), None)

    async def _read_me(self) -> Json | None:
        if self._user_id is None:
            return None
        if self._cohort is not None:
            view = await self._cohort_view()
            mine = view.entry(self._user_id)
            return (await self._shown([mine], view))[0] if mine is not None else None
        entry = await self._standings.entry(self._board, self._user_id)
        return (await self._shown([entry], None))[0] if entry is not None else None

    async def _read_friends_board(self) -> list[Json] | None:
        self._friends_read_at = self._clock()
        if self._friends is None or self._user_id is None:
            return None
        return [e.to_json() for e in await self._friends.board(self._board, self._user_id, self._top_n)]
