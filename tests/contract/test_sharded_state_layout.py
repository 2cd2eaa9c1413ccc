"""What the sharded index's users hash holds a user (issue 19, `redis_bytes_per_user`): the
member's tie-break hex without its leading zeros and without the ':' + user id after it (the
field is the user), so the value is one allocation size class smaller. A board whose states
were written before (the whole member) must go on working without a rebuild: reads find its
users, writes of both paths replace their old members (no strays), dense groups stay counted."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
import redis.asyncio as aioredis

from podium.domain.boards import Board, Order, Tie
from podium.domain.buckets import SplitPolicy
from podium.domain.totals import LogPosition, Total
from podium.index.memory import MemoryRankIndex
from podium.index.redis import member, member_in, state
from podium.index.sharded import ShardedRedisRankIndex
from podium.plumbing import names
from tests.contract.test_sharded_index import board, same_answers, totals


@pytest.fixture
def shards(redis_shards: list[str]) -> list[str]:
    return redis_shards


def test_a_state_holds_the_tie_without_zeros_or_user_and_rebuilds_the_member() -> None:
    b = Board("layout", Order.DESC)
    t = Total(b.name, "user12345", 730, 1, 999_999_999_999, LogPosition(0, 99_999))
    assert state(b, t) == "1|0|e8d4a50fff|730|0|99999"
    assert len(state(b, t)) <= 28  # jemalloc's 32-byte class with the string's 4 bytes of header
    assert member_in("e8d4a50fff", "user12345") == member(b, t) == "000000e8d4a50fff:user12345"
    assert member_in("0", "a:b") == "0000000000000000:a:b"
    assert member_in(member(b, t), "user12345") == member(b, t)  # a state written before
    sub = Board("layout-sub", Order.DESC, subscore_order=Order.ASC)
    ts = replace(t, board=sub.name, subscore=-3)
    held = state(sub, ts).split("|")[2]
    assert len(held) > 16 and member_in(held, "user12345") == member(sub, ts)


async def _to_old_layout(shards: list[str], index: ShardedRedisRankIndex, b: Board, ts: list[Total]) -> None:
    """Rewrite every user's state as it was held before: the whole member in the third field."""
    client = aioredis.Redis.from_url(shards[index.home(b.name)])
    try:
        key = names.users_key(b.name)
        for t in ts:
            raw = await client.hget(key, t.user_id)
            assert raw is not None
            parts = raw.decode().split("|")
            assert ":" not in parts[2]  # written in the new layout
            parts[2] = member_in(parts[2], t.user_id)
            await client.hset(key, t.user_id, "|".join(parts))
    finally:
        await client.aclose()


@pytest.mark.parametrize("path", ["one bucket", "general"])
@pytest.mark.parametrize("tie", [Tie.UNIQUE, Tie.DENSE])
async def test_a_board_with_states_written_before_goes_on_working(shards: list[str], path: str, tie: Tie) -> None:
    policy = SplitPolicy.never() if path == "one bucket" else SplitPolicy(max_members=15, max_writes_per_s=1e9)
    index = ShardedRedisRankIndex.from_urls(shards, policy=policy)
    reference = MemoryRankIndex()
    b = replace(board(), tie=tie, subscore_order=Order.ASC if tie is Tie.DENSE else None)
    try:
        first = [replace(t, subscore=random.Random(i).randrange(3)) for i, t in enumerate(totals(b, 60, seed=1))]
        await index.apply(b, first)
        reference.apply_now(b, first)
        await _to_old_layout(shards, index, b, first)
        await same_answers(index, reference, b, 60)
        # Every user moves (new totals, new ties): each old member must go, found from the old state.
        second = [
            replace(t, subscore=random.Random(i).randrange(3)) for i, t in enumerate(totals(b, 60, seed=2, version=2))
        ]
        await index.apply(b, second)
        reference.apply_now(b, second)
        await same_answers(index, reference, b, 60)
        assert sum(x.members for x in await index.buckets(b)) == 60  # no stray old member left
        assert [(e.rank, e.user_id) for e in await index.page(b, 1, 60)] == [
            (e.rank, e.user_id) for e in await reference.page(b, 1, 60)
        ]
    finally:
        await index.drop(b)
        await index.close()
