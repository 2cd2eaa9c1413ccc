"""Adding a social shard under load (docs/operations.md, "Social shards"):

1. start the shard and list it as joining (`+name` at the end of `social_shards`) in every
   process: from then on it gets every total and the list changes of the users it takes;
2. `podium social fill`: copy onto it, from the store, the lists of the users it takes
   (each unless the processes wrote it there since step 1: theirs is newer than the
   fill's read of the store, and the shard's `joined` set says so, checked in the same
   script that writes) and every board's totals (by version: what the processes wrote
   meanwhile is never undone, only caught up);
3. drop the `+` in every process: the shard serves its users;
4. `podium social prune`: take the moved users' lists and boards off their old homes.

Friends boards stay exact throughout: until step 3 reads go to the old homes, which are
still written; after it, to the new one, filled and written since step 1.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from podium.domain.boards import Board
from podium.plumbing import names
from podium.plumbing.together import together
from podium.social.sharded import ShardedSocialIndex
from podium.store.base import Store

log = logging.getLogger("podium.social.grow")


async def fill_joining(
    store: Store, boards: Sequence[Board], social: ShardedSocialIndex, *, chunk_size: int = 5000
) -> dict[str, int]:
    """Copy the store onto the joining shards: their users' lists, then every total of
    `boards` (every stored board, period boards included: the caller reads them with its
    board settings, usecases/period_boards.with_periods)."""
    if not social.joining:
        raise ValueError("no social shard is joining: list the new one as +NAME in social_shards first")
    lists = await _lists_onto_joining(store, social)
    totals = 0
    for board in boards:
        async for chunk in store.totals_of(board.name, chunk_size):
            await together(*(social.shards[j].apply(board, chunk) for j in social.joining))
            totals += len(chunk)
    log.info("joining social shards filled", extra={"friend_lists": lists, "totals": totals})
    return {"friend_lists": lists, "totals": totals}


async def _lists_onto_joining(store: Store, social: ShardedSocialIndex) -> int:
    moved = 0
    async for user_id, friends in store.friend_lists():
        future = social.future_home(user_id)
        if future in social.joining:
            # Unless the processes wrote the list there since the shard joined: theirs is newer.
            await social.shards[future].replace_friends(user_id, friends, mode="fill")
            moved += 1
    return moved


async def prune_moved(store: Store, social: ShardedSocialIndex) -> int:
    """Take every user's list (and with it their place among followers and their boards'
    entries) off every shard but their home: what a move left behind."""
    if social.joining:
        raise ValueError("a social shard is still joining: prune once every shard serves")
    pruned = 0
    for shard in social.shards:
        await shard._redis.delete(names.joined_key())  # the fill's marks are done with
    async for user_id, _ in store.friend_lists():
        home = social.home(user_id)
        for shard in social.shards:
            if shard is not home and await shard.friends(user_id):
                await shard.replace_friends(user_id, [])
                pruned += 1
    log.info("moved users pruned from their old social shards", extra={"users": pruned})
    return pruned
