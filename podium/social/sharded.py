"""The social index over several Redis shards of its own (`social_shards`), apart from the
rank index's shards.

A user's home shard (placement.py) holds what belongs to them as an owner: their friend
list, their friends boards, and their place in the follower sets of the users they follow.
So a shard's follower set of a user holds only the followers living on that shard, and a
friend-list change, a friends board's read and the cap's bookkeeping each touch one shard,
in the one script they already were (podium/social/redis.py).

Totals go to every shard, in one script per shard per batch: each shard keeps its own copy
of the newest totals (versioned, so each copy converges alone, whatever fails between the
shards' scripts) and fans each one out to its own followers. The fan-out cap is split
between the shards: a user is read at query time on a shard where more than cap/n of its
users follow them, so one write costs the shards together about the cap at most, as on one
Redis (placement spreads a user's followers evenly). What a friends board shows does not
depend on where a user is heavy.

A shard being added is *joining* (its name written `+name` in `social_shards`): it gets
every total, and every list change of the users it will take, but serves no read; once
`podium social fill` has copied the store onto it, dropping the `+` makes it serve. Its
users' old homes keep being written meanwhile, so a friends board is exact on both.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Collection, Sequence
from typing import Any

from podium.domain.boards import Board
from podium.domain.totals import Total
from podium.plumbing.together import together
from podium.social.base import FriendEntry
from podium.social.placement import home_of
from podium.social.redis import RedisSocialIndex


class ShardedSocialIndex:
    def __init__(
        self, shards: Sequence[RedisSocialIndex], labels: Sequence[str], joining: Collection[int] = ()
    ) -> None:
        if len(shards) != len(labels) or len(joining) >= len(shards):
            raise ValueError("one label per social shard, and at least one shard serving")
        self.shards = list(shards)
        self.labels = list(labels)
        self.joining = frozenset(joining)
        self._serving = [i for i in range(len(shards)) if i not in self.joining]

    @classmethod
    def over(
        cls,
        clients: Sequence[Any],
        labels: Sequence[str],
        *,
        fan_out_cap: int,
        joining: Collection[int] = (),
        **wait: Any,
    ) -> ShardedSocialIndex:
        """The index over Redis clients of the shards, named by `labels` (placement.py)."""
        cap = math.ceil(fan_out_cap / max(1, len(clients)))
        return cls([RedisSocialIndex(c, fan_out_cap=cap, **wait) for c in clients], labels, joining)

    def home(self, user_id: str) -> RedisSocialIndex:
        """The shard that serves the user's reads."""
        return self.shards[self._serving[home_of(user_id, [self.labels[i] for i in self._serving])]]

    def future_home(self, user_id: str) -> int:
        """The user's home once every joining shard serves."""
        return home_of(user_id, self.labels)

    def _homes(self, user_id: str) -> list[RedisSocialIndex]:
        """Where the user's list and boards are written: their home, and the joining shard
        taking them if there is one."""
        home, future = self.home(user_id), self.shards[self.future_home(user_id)]
        return [home] if future is home else [home, future]

    async def friends(self, user_id: str) -> list[str]:
        return await self.home(user_id).friends(user_id)

    async def followers(self, user_id: str) -> list[str]:
        found = await asyncio.gather(*(s.followers(user_id) for s in self.shards))
        return sorted({u for part in found for u in part})

    async def replace_friends(self, user_id: str, friends: Sequence[str]) -> None:
        home, future = self.home(user_id), self.future_home(user_id)
        writes = [home.replace_friends(user_id, friends)]
        if self.shards[future] is not home:
            # Marked there: the fill, whose copy of the store may be older, leaves it alone.
            writes.append(self.shards[future].replace_friends(user_id, friends, mode="mark"))
        await together(*writes)

    async def apply(self, board: Board, totals: Sequence[Total]) -> list[Total]:
        applied = await together(*(s.apply(board, totals) for s in self.shards))
        # Applied anywhere: a shard behind the others (it missed a batch that failed there)
        # takes what the others already hold.
        seen: dict[tuple[str, int], Total] = {}
        for part in applied:
            for t in part:
                seen[(t.user_id, t.version)] = t
        return list(seen.values())

    async def friends_board(self, board: Board, user_id: str, count: int) -> list[FriendEntry]:
        return await self.home(user_id).friends_board(board, user_id, count)

    async def reset_board(self, board: Board, user_id: str) -> None:
        await together(*(s.reset_board(board, user_id) for s in self._homes(user_id)))

    async def close(self) -> None:
        await asyncio.gather(*(s.close() for s in self.shards))
