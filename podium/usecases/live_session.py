"""One subscriber's view of a board: a snapshot, then ordered, coalesced deltas with the
events the subscriber cares about. Transport-free: the WebSocket and SSE routes
(podium/api/live.py) only serialise the frames. The frame format is in the README
("Live updates")."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from podium.domain.boards import Board, Order
from podium.index.base import Entry
from podium.live.base import Change, LiveHub
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
    ) -> None:
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
                    yield await self._delta(fresh)
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
        return await self._delta(missed)

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

    async def _delta(self, changes: list[Change]) -> Json:
        self._last_seq = changes[-1].seq if changes else self._last_seq
        changes = [c.seen_by(self._user_id) for c in changes]  # a shadow-banned user's: only its own
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
        return {**frame, "board": self._board.name, "seq": self._last_seq, "at_ms": int(time.time() * 1000)}

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
        entries = await self._standings.entries(self._board, users)
        return {
            u: e if e is None or not e.hidden or u == self._user_id else None
            for u, e in zip(users, entries, strict=True)
        }

    async def _read_top(self) -> list[Json]:
        return [e.to_json() for e in await self._standings.page(self._board, 1, self._top_n)]

    async def _read_me(self) -> Json | None:
        if self._user_id is None:
            return None
        entry = await self._standings.entry(self._board, self._user_id)
        return entry.to_json() if entry is not None else None

    async def _read_friends_board(self) -> list[Json] | None:
        self._friends_read_at = self._clock()
        if self._friends is None or self._user_id is None:
            return None
        return [e.to_json() for e in await self._friends.board(self._board, self._user_id, self._top_n)]
