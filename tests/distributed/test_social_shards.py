"""The local stack's social index lives on social shards of its own (Sentinel masters
social0 and social1), not on the rank shards: a user's list and friends boards on their
home shard, found through the Sentinels."""

from __future__ import annotations

import uuid

import pytest

from podium.bootstrap import redis_directory, redis_social_index
from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.plumbing import names
from podium.settings import Settings
from podium.social.sharded import ShardedSocialIndex

pytestmark = pytest.mark.distributed


async def test_friends_boards_are_served_from_the_social_shards(dist_settings: Settings) -> None:
    run = uuid.uuid4().hex[:8]
    users = [f"s{i}-{run}" for i in range(12)]
    board = Board(f"social-{run}")
    social = redis_social_index(dist_settings)
    assert isinstance(social, ShardedSocialIndex) and social.labels == ["social0", "social1"]
    rank_shard = redis_directory(dist_settings)
    try:
        for i, user in enumerate(users):
            await social.replace_friends(user, [users[(i + 1) % len(users)], users[(i + 2) % len(users)]])
        await social.apply(board, [Total(board.name, u, 10 * i, 1, i, LogPosition(0, i)) for i, u in enumerate(users)])
        homes = {social.home(u) for u in users}
        assert len(homes) == 2, "twelve users all on one of two shards"
        for i, user in enumerate(users):
            got = [(e.user_id, e.score) for e in await social.friends_board(board, user, 10)]
            mine = sorted([i, (i + 1) % len(users), (i + 2) % len(users)], reverse=True)
            assert got == [(users[j], 10 * j) for j in mine]
            key = names.friends_key(user)
            held = [await s._redis.exists(key) for s in social.shards]  # where the list sits
            assert held == [int(s is social.home(user)) for s in social.shards]
            assert not await rank_shard.exists(key), "a friend list on a rank shard"
    finally:
        await rank_shard.aclose()
        await social.close()
