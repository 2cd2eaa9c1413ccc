"""Refill the social index from the store: every friend list, then every board's totals,
fanned out to the followers' friends boards as the rank-worker would.

Both writes converge whatever the index held: a friend list is replaced by the store's
(only the difference is written), and totals apply by version, so a refill over a live
index changes nothing there and one after a loss of Redis data (or onto a new social
shard) puts back every friends board. Totals the rank-worker applies meanwhile are newer
and win, as they should.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Protocol

from podium.domain.boards import Board
from podium.social.base import SocialIndex
from podium.store.base import Store

log = logging.getLogger("podium.social.refill")


class Progress(Protocol):
    """What a refill reports its step to: the rebuild's job (usecases/jobs.Job) is one. Said
    here, so that the port's module needs nothing of the use cases that call it."""

    step: str


async def refill_friend_lists(job: Progress, store: Store, social: SocialIndex) -> int:
    job.step = "refilling friend lists"
    lists = 0
    async for user_id, friends in store.friend_lists():
        await social.replace_friends(user_id, friends)
        lists += 1
    return lists


async def refill_friends_boards(
    job: Progress, store: Store, social: SocialIndex, boards: Sequence[Board], *, chunk_size: int
) -> int:
    totals = 0
    for board in boards:
        job.step = f"refilling friends boards of {board.name}"
        async for chunk in store.totals_of(board.name, chunk_size):
            await social.apply(board, chunk)
            totals += len(chunk)
    return totals


async def refill_social(
    job: Progress, store: Store, social: SocialIndex, boards: Sequence[Board], *, chunk_size: int
) -> None:
    """Friend lists first (every one, even for one board's rebuild: a friends board is its
    owner's list as much as the board's totals), so that the totals after them fan out to
    every follower."""
    friend_lists = await refill_friend_lists(job, store, social)
    totals = await refill_friends_boards(job, store, social, boards, chunk_size=chunk_size)
    log.info("social index refilled", extra={"friend_lists": friend_lists, "totals": totals})
