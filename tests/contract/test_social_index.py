"""The social index port's contract: after random friend-list changes and totals (in any
order, with duplicates and stale versions), every friends board equals a plain reference
computed from the graph and the newest totals — for every adapter, with a fan-out cap
small enough that users cross it both ways."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from podium.domain.boards import Board, Order
from podium.domain.ordering import total_key
from podium.domain.totals import LogPosition, Total
from podium.social.base import SocialIndex
from podium.social.memory import MemorySocialIndex
from podium.social.placement import shard_label
from podium.social.redis import RedisSocialIndex
from podium.social.sharded import ShardedSocialIndex

USERS = 7
CAP = 2  # followers a user may have and still be fanned out on write
_runs = itertools.count()
SocialFactory = Callable[[], Awaitable[SocialIndex]]


@pytest.fixture(params=["memory", "redis", "sharded"])
def make_social(request: pytest.FixtureRequest) -> SocialFactory:
    if request.param == "memory":

        async def memory() -> SocialIndex:
            return MemorySocialIndex(fan_out_cap=CAP)

        return memory
    if request.param == "sharded":
        urls = request.getfixturevalue("redis_shards")

        async def sharded() -> SocialIndex:
            # Two shards: each user's list and boards on their home, totals on both. The cap
            # is split between them: users cross it on a shard too.
            clients = [aioredis.Redis.from_url(u) for u in urls[:2]]
            labels = [shard_label(u) for u in urls[:2]]
            return ShardedSocialIndex.over(clients, labels, fan_out_cap=CAP, wait_replicas=1, wait_timeout_ms=2000)

        return sharded
    primary_url, _ = request.getfixturevalue("redis_pair")

    async def redis() -> SocialIndex:
        return RedisSocialIndex.from_url(primary_url, fan_out_cap=CAP, wait_replicas=1, wait_timeout_ms=2000)

    return redis


@dataclass(frozen=True)
class SetList:
    user: int
    friends: frozenset[int]


@dataclass(frozen=True)
class Write:
    board: int
    user: int
    total: int
    reached: int
    removed: bool


STEPS = st.lists(
    st.one_of(
        st.builds(SetList, st.integers(0, USERS - 1), st.frozensets(st.integers(0, USERS - 1), max_size=USERS)),
        st.builds(
            Write,
            st.integers(0, 1),
            st.integers(0, USERS - 1),
            st.integers(-3, 3) | st.sampled_from([2**53 - 1, -(2**53 - 1)]),
            st.integers(0, 3),
            st.booleans(),
        ),
    ),
    max_size=40,
)


class Reference:
    """The graph and the newest totals; a friends board is sorted out of them on demand."""

    def __init__(self, boards: list[Board]) -> None:
        self.boards = boards
        self.friends: dict[str, set[str]] = {}
        self.totals: dict[tuple[str, str], Total] = {}

    def board(self, board: Board, user: str) -> list[tuple[int, str, int]]:
        members = {user} | self.friends.get(user, set())
        live = [t for u in members if (t := self.totals.get((board.name, u))) is not None and not t.removed]
        live.sort(key=lambda t: total_key(board, t))
        return [(i + 1, t.user_id, t.total) for i, t in enumerate(live)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    steps=STEPS, orders=st.tuples(st.sampled_from(list(Order)), st.sampled_from(list(Order))), chunk=st.integers(1, 3)
)
def test_friends_boards_equal_the_reference(
    make_social: SocialFactory, steps: list[SetList | Write], orders: tuple[Order, Order], chunk: int
) -> None:
    run = next(_runs)  # the Redis adapter's keys are global: every example has its own users and boards
    users = [f"u{i}-r{run}" for i in range(USERS)]
    boards = [Board(f"b{i}-r{run}", order) for i, order in enumerate(orders)]
    ref = Reference(boards)
    versions: dict[tuple[str, str], int] = {}

    async def check(social: SocialIndex) -> None:
        for board in boards:
            for user in users:
                want = ref.board(board, user)
                got = [(e.rank, e.user_id, e.score) for e in await social.friends_board(board, user, USERS + 1)]
                assert got == want, (board.name, user)
                first_two = await social.friends_board(board, user, 2)
                assert [(e.rank, e.user_id, e.score) for e in first_two] == want[:2]
        for user in users:
            assert await social.friends(user) == sorted(ref.friends.get(user, set()))
            assert await social.followers(user) == sorted(u for u, fs in ref.friends.items() if user in fs)

    async def play() -> None:
        social = await make_social()
        try:
            pending: dict[int, list[Total]] = {0: [], 1: []}
            for i, step in enumerate(steps):
                if isinstance(step, SetList):
                    user = users[step.user]
                    listed = sorted(users[f] for f in step.friends if f != step.user)
                    ref.friends[user] = set(listed)
                    await social.replace_friends(user, listed)
                else:
                    board, user = boards[step.board], users[step.user]
                    v = versions[(board.name, user)] = versions.get((board.name, user), 0) + 1
                    t = Total(board.name, user, step.total, v, step.reached, LogPosition(0, v), step.removed)
                    ref.totals[(board.name, user)] = t
                    pending[step.board].append(t)
                    if len(pending[step.board]) >= chunk:
                        await social.apply(board, pending[step.board])
                        pending[step.board] = []
                        if v > 1:  # a stale redelivery of an older version changes nothing
                            old = Total(board.name, user, 99, v - 1, 0, LogPosition(0, v - 1))
                            assert await social.apply(board, [old]) == []
                if i % 10 == 9:
                    for b, held in pending.items():
                        await social.apply(boards[b], held)
                        pending[b] = []
                    await check(social)
            for b, held in pending.items():
                await social.apply(boards[b], held)
            await check(social)
        finally:
            await social.close()

    asyncio.run(play())


async def test_a_heavy_user_is_read_at_query_time(make_social: SocialFactory) -> None:
    """Over the cap a user's entry leaves their followers' boards, yet every follower
    still sees their newest total; back under it, they are fanned out again."""
    run = next(_runs)
    star, fans = f"star-r{run}", [f"fan{i}-r{run}" for i in range(CAP + 1)]
    board = Board(f"heavy-r{run}", Order.DESC)
    social = await make_social()
    try:
        for fan in fans:
            await social.replace_friends(fan, [star])
        await social.apply(board, [Total(board.name, star, 10, 1, 1, LogPosition(0, 1))])
        await social.apply(board, [Total(board.name, star, 20, 2, 2, LogPosition(0, 2))])
        for fan in fans:
            assert [(e.user_id, e.score) for e in await social.friends_board(board, fan, 10)] == [(star, 20)]
        await social.replace_friends(fans[0], [])  # back to CAP followers: fanned out again
        await social.apply(board, [Total(board.name, star, 30, 3, 3, LogPosition(0, 3))])
        assert await social.friends_board(board, fans[0], 10) == []
        for fan in fans[1:]:
            assert [(e.user_id, e.score) for e in await social.friends_board(board, fan, 10)] == [(star, 30)]
    finally:
        await social.close()


async def test_an_own_entry_left_by_the_old_layout_is_not_shown(redis_pair: tuple[str, str]) -> None:
    """Friends boards once held their user's own member too (kept by every write); now the
    own entry comes from the user's state. A board written the old way still holds the
    user's member, stale after the next write: the reader shows the user once, current,
    and still fills the page."""
    import redis.asyncio as aioredis

    from podium.index.redis import member
    from podium.plumbing import names

    run = next(_runs)
    me, friends = f"me-r{run}", [f"f{i}-r{run}" for i in range(3)]
    board = Board(f"old-layout-r{run}", Order.DESC)
    social = RedisSocialIndex.from_url(redis_pair[0], fan_out_cap=CAP)
    client = aioredis.Redis.from_url(redis_pair[0])
    try:
        await social.replace_friends(me, friends)
        old = Total(board.name, me, 50, 1, 1, LogPosition(0, 1))
        await social.apply(
            board, [old, *(Total(board.name, f, 10 + i, 1, 1, LogPosition(0, 2 + i)) for i, f in enumerate(friends))]
        )
        own_board = names.friends_board_key(board.name, me)
        await client.zadd(own_board, {member(board, old): -50})  # what the old layout kept
        await social.apply(board, [Total(board.name, me, 5, 2, 9, LogPosition(0, 9))])
        got = [(e.user_id, e.score) for e in await social.friends_board(board, me, 3)]
        assert got == [(friends[2], 12), (friends[1], 11), (friends[0], 10)]
        got = [(e.user_id, e.score) for e in await social.friends_board(board, me, 10)]
        assert got == [(friends[2], 12), (friends[1], 11), (friends[0], 10), (me, 5)]
    finally:
        await client.aclose()
        await social.close()


async def test_boards_kept_by_the_old_layout_still_reach_a_new_follower(redis_pair: tuple[str, str]) -> None:
    """A user's boards were once a set a user, written with every total; now a list in one
    hash, written only when a board turns live or removed for them. A friend whose board
    only the old set names still enters a new follower's friends board, and a total on a
    board already listed writes no list."""
    import redis.asyncio as aioredis

    from podium.plumbing import names

    run = next(_runs)
    me, friend = f"me-b{run}", f"friend-b{run}"
    old_board, new_board = Board(f"old-boards-r{run}", Order.DESC), Board(f"new-boards-r{run}", Order.DESC)
    social = RedisSocialIndex.from_url(redis_pair[0], fan_out_cap=CAP)
    client = aioredis.Redis.from_url(redis_pair[0])
    try:
        await social.apply(old_board, [Total(old_board.name, friend, 40, 1, 1, LogPosition(0, 1))])
        # What the old layout held: the board in the friend's own set, not in the list.
        await client.hdel(names.board_lists_key(), friend)
        await client.sadd(names.user_boards_key(friend), old_board.name)
        await social.apply(new_board, [Total(new_board.name, friend, 30, 1, 2, LogPosition(0, 2))])
        assert await client.hget(names.board_lists_key(), friend) == new_board.name.encode()
        await client.hset(names.board_lists_key(), friend, f"{new_board.name} marked")
        await social.apply(new_board, [Total(new_board.name, friend, 35, 2, 3, LogPosition(0, 3))])
        assert await client.hget(names.board_lists_key(), friend) == f"{new_board.name} marked".encode()
        await client.hset(names.board_lists_key(), friend, new_board.name)
        await social.replace_friends(me, [friend])
        assert [(e.user_id, e.score) for e in await social.friends_board(old_board, me, 10)] == [(friend, 40)]
        assert [(e.user_id, e.score) for e in await social.friends_board(new_board, me, 10)] == [(friend, 35)]
        # Removed on the new board: off the list, and off the follower's board.
        await social.apply(new_board, [Total(new_board.name, friend, 35, 3, 3, LogPosition(0, 4), removed=True)])
        assert await client.hget(names.board_lists_key(), friend) is None
        assert await social.friends_board(new_board, me, 10) == []
    finally:
        await client.aclose()
        await social.close()


async def test_follower_sets_kept_before_the_followed_set_are_learned(redis_pair: tuple[str, str]) -> None:
    """An apply reads the follower set only of users someone on the shard follows, as the
    followed set says once it is whole. An index written before that set was kept holds
    follower sets it does not name: the first applies learn them (a SCAN) before trusting
    it, and a total of a user no one follows then reads no follower set at all."""
    import redis.asyncio as aioredis

    from podium.plumbing import names

    run = next(_runs)
    me, friend, loner = f"me-f{run}", f"friend-f{run}", f"loner-f{run}"
    board = Board(f"followed-r{run}", Order.DESC)
    client = aioredis.Redis.from_url(redis_pair[0])
    social = RedisSocialIndex.from_url(redis_pair[0], fan_out_cap=CAP)
    try:
        await social.replace_friends(me, [friend])
        assert await client.sismember(names.followed_key(), friend)
        # As the old layout left it: the follower set, but neither the mark nor the entry.
        await client.delete(names.followed_known_key())
        await client.srem(names.followed_key(), friend)
        fresh = RedisSocialIndex.from_url(redis_pair[0], fan_out_cap=CAP)
        try:
            await fresh.apply(board, [Total(board.name, friend, 20, 1, 1, LogPosition(0, 1))])
            assert await client.exists(names.followed_known_key())
            assert await client.sismember(names.followed_key(), friend)
            assert [(e.user_id, e.score) for e in await fresh.friends_board(board, me, 10)] == [(friend, 20)]
            before = (await client.info("commandstats")).get("cmdstat_smembers", {}).get("calls", 0)
            await fresh.apply(board, [Total(board.name, loner, 30, 1, 2, LogPosition(0, 2))])
            after = (await client.info("commandstats")).get("cmdstat_smembers", {}).get("calls", 0)
            assert after == before
            await fresh.apply(board, [Total(board.name, friend, 25, 2, 3, LogPosition(0, 3))])
            assert [(e.user_id, e.score) for e in await fresh.friends_board(board, me, 10)] == [(friend, 25)]
        finally:
            await fresh.close()
        # The last follower gone: no longer followed.
        await social.replace_friends(me, [])
        assert not await client.sismember(names.followed_key(), friend)
    finally:
        await client.aclose()
        await social.close()
