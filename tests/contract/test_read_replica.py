"""A region's read replica of the rank index (docs/global.md): an api configured with
`redis_read_shards` reads ranks from a Redis replica, and gets the primary's answers."""

from __future__ import annotations

import asyncio

from podium.bootstrap import read_replicas, redis_rank_index
from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.live.base import Applied
from podium.live.redis import RedisLiveHub
from podium.settings import Settings


async def test_ranks_read_from_a_replica_equal_the_primarys(redis_pair: tuple[str, str]) -> None:
    primary_url, replica_url = redis_pair
    settings = Settings(
        profile="distributed", redis_shards=primary_url, redis_sentinels="", redis_read_shards=replica_url
    )
    assert read_replicas(settings).redis_shard_list == [replica_url]
    primary, replica = redis_rank_index(settings), redis_rank_index(read_replicas(settings))
    board = Board("replica-reads")
    try:
        totals = [Total(board.name, f"u{i}", i * 10, 1, i, LogPosition(0, i)) for i in range(20)]
        await primary.apply(board, totals)  # WAITs for the replica, as the rank-worker does
        for _ in range(50):  # the replica acknowledged; it applies a moment later at most
            if await replica.count(board) == 20:
                break
            await asyncio.sleep(0.05)
        assert await replica.page(board, 1, 20) == await primary.page(board, 1, 20)
        mine = await replica.entry(board, "u3")
        assert mine is not None and mine.rank == 17
    finally:
        await primary.drop(board)
        await primary.close()
        await replica.close()


async def test_live_updates_reach_a_subscriber_of_a_replica(redis_pair: tuple[str, str]) -> None:
    """A region's api subscribes to live changes on its replica (PODIUM_LIVE_REDIS_URL):
    Redis replicates each PUBLISH to its replicas' subscribers, and the history with it."""
    primary_url, replica_url = redis_pair
    home, away = RedisLiveHub.from_url(primary_url), RedisLiveHub.from_url(replica_url)
    board = "replica-live"
    try:
        sub = await away.subscribe(board)
        await home.publish(board, [Applied("ada", 30, 1, 1), Applied("bob", 20, 2, 1)])
        await asyncio.wait_for(sub.wait(), 5.0)
        changes, overflowed = sub.take()
        assert [(c.user_id, c.score) for c in changes] == [("ada", 30), ("bob", 20)] and not overflowed
        last = await away.last_seq(board)
        assert last == changes[-1].seq
        assert await away.since(board, last - 1) == changes[-1:]
    finally:
        await home.close()
        await away.close()
