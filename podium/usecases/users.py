"""One user across every board: shadow-bans, privacy deletes and exports.

A ban and a removal go through the ingest log like a score, so each is ordered after the
user's earlier submissions and applied exactly once; the caller waits until the rank
index shows it. Friend lists change as the friends service changes them (store first,
then the social index). The store is the source of truth for what a user has; who
follows a user is read from the social index, the store's reverse lookup.
"""

from __future__ import annotations

import asyncio
import functools
import logging
from dataclasses import dataclass
from typing import Any

import orjson

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.history.base import RankHistory
from podium.pipeline.ingest import Ingest
from podium.plumbing import bounded
from podium.social.base import SocialIndex
from podium.store.base import Store
from podium.usecases.board_settings import Boards
from podium.usecases.friends import Friends
from podium.usecases.period_boards import now_us, period_boards_of
from podium.usecases.standings import Standings
from podium.usecases.user_regions import check_entered
from podium.visibility.base import Visibility

log = logging.getLogger("podium.usecases.users")

# How many followers' lists are changed at once by a delete.
FOLLOWERS_AT_ONCE = 32


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What a privacy delete did."""

    user_id: str
    boards: list[str]  # the boards the user was removed from, sorted
    friends_removed: int  # friend-list links dropped: the user's own list and each follower's mention
    visible: bool  # every removal is visible to reads (False: the wait timed out; they will be)

    def to_json(self) -> dict[str, Any]:
        return {"user_id": self.user_id, "boards": self.boards, "friends_removed": self.friends_removed}


class Users:
    def __init__(
        self,
        store: Store,
        social: SocialIndex,
        boards: Boards,
        ingest: Ingest,
        visibility: Visibility,
        friends: Friends,
        standings: Standings,
        *,
        wait_timeout_s: float,
        region: str = "",
        history: RankHistory | None = None,
    ) -> None:
        self._history = history  # None: history is off
        self._store = store
        self._social = social
        self._boards = boards
        self._ingest = ingest
        self._visibility = visibility
        self._friends = friends
        self._standings = standings
        self._wait_timeout_s = wait_timeout_s
        self._region = (
            region  # this api's: a user entering through another is refused (podium/usecases/user_regions.py)
        )

    async def hide(self, board: Board, user_id: str, hidden: bool) -> bool:
        """Ban the user from others' view of the board (or lift the ban); True once visible."""
        await check_entered(self._store, [(b.name, user_id) for b in period_boards_of(board, now_us())], self._region)
        return await self._wait(board, user_id, await self._ingest.hide(board.name, user_id, hidden))

    async def forget(self, user_id: str) -> Forgotten:
        """Remove the user from every board it has a total on and from every friend list,
        its own included. Safe to repeat: a retry after a failure finishes the job."""
        names = await self._store.user_boards(user_id)
        await check_entered(self._store, [(name, user_id) for name in names], self._region)  # before any change
        boards, unknown = await self._known_boards(names)
        for name in unknown:
            log.warning("privacy delete: board not known to the pipeline", extra={"board": name, "user": user_id})
        # Every removal durable in the log first: whatever fails after, they will be applied.
        positions = await asyncio.gather(*(self._ingest.remove(b.name, user_id) for b in boards))
        own = await self._store.friends(user_id)
        followers = await self._social.followers(user_id)
        await self._friends.replace(user_id, [])
        for i in range(0, len(followers), FOLLOWERS_AT_ONCE):
            await asyncio.gather(*(self._friends.remove(f, user_id) for f in followers[i : i + FOLLOWERS_AT_ONCE]))
        waits = [functools.partial(self._wait, b, user_id, p) for b, p in zip(boards, positions, strict=True)]
        seen = await bounded.gather(waits)  # reads of the index: a few at a time, as the export's
        if self._history is not None:
            # After the waits: the rank-worker writes a batch's points before it is visible, so
            # none of the user's scores before the removals writes a point after this.
            await self._history.forget(user_id, names)
        return Forgotten(user_id, [b.name for b in boards], len(own) + len(followers), all(seen))

    async def export(self, user_id: str) -> dict[str, Any]:
        """Everything Podium holds about the user, as the store has it (an unknown user: empty),
        each total with the rank it has now, as the user sees it (null: not ranked)."""
        names = await self._store.user_boards(user_id)
        found = await self._store.load_totals([(name, user_id) for name in names])
        held = [found[(name, user_id)] for name in names if (name, user_id) in found]
        # A few at a time: a player of hundreds of boards must not take more connections than
        # the index's pool holds ("Too many connections" answered an export of 547 boards).
        ranked = await bounded.gather([functools.partial(self._rank, t.board, user_id) for t in held])
        entries = [{**entry_json(t), "rank": rank} for t, rank in zip(held, ranked, strict=True)]
        friends, followers = await asyncio.gather(self._store.friends(user_id), self._social.followers(user_id))
        return {"user_id": user_id, "entries": entries, "friends": friends, "followers": followers}

    async def _rank(self, name: str, user_id: str) -> int | None:
        board = await self._boards.find(name)
        entry = await self._standings.entry(board, user_id) if board is not None else None
        return entry.rank if entry is not None else None

    async def _known_boards(self, names: list[str]) -> tuple[list[Board], list[str]]:
        found = await asyncio.gather(*(self._boards.find(name) for name in names))
        known = [b for b in found if b is not None]
        return known, [name for name, b in zip(names, found, strict=True) if b is None]

    async def _wait(self, board: Board, user_id: str, position: LogPosition) -> bool:
        return await self._visibility.wait(board, user_id, position, self._wait_timeout_s)


def entry_json(t: Total) -> dict[str, Any]:
    """One stored total as the export shows it; metadata parsed (null when there is none)."""
    return {
        "board": t.board,
        "score": t.total,
        "subscore": t.subscore,
        "best_score": t.best_total,
        "hidden": t.hidden,
        "removed": t.removed,
        "display_name": t.display_name or None,
        "metadata": orjson.loads(t.metadata) if t.metadata else None,
        "updated_at_us": t.updated_at_us,
        "region": t.region or None,  # the region the user enters the board through (docs/global.md)
    }
