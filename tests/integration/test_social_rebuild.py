"""The social shards are recoverable: after FLUSHALL on every one of them, `rebuild` puts
back every friend list and every friends board from the store, each equal to a plain
reference sorted out of the store's graph and totals — heavy users (over the fan-out cap)
and ties included."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from podium.boards import Boards
from podium.domain.boards import Board, Order
from podium.domain.ordering import total_key
from podium.domain.totals import LogPosition, Total
from podium.index.generations import GenerationalRankIndex, MemoryGenerations
from podium.index.memory import MemoryRankIndex
from podium.jobs import Job
from podium.rebuild import rebuild
from podium.social.base import SocialIndex
from podium.social.placement import shard_label
from podium.social.sharded import ShardedSocialIndex
from podium.store.base import board_totals
from podium.store.sqlite import SqliteStore
from tests.engines import private_redis

USERS = 90
CAP = 6  # a few users are followed by more than this: read at query time


@pytest.fixture(scope="module")
def social_urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    base = tmp_path_factory.mktemp("social")
    first, second = private_redis(base / "s0"), private_redis(base / "s1")
    yield [next(first), next(second)]
    for server in (first, second):
        next(server, None)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    s = SqliteStore(tmp_path / "store.db")
    await s.open()
    yield s
    await s.close()


async def reference(store: SqliteStore, board: Board, user: str) -> list[tuple[int, str, int]]:
    members = {user, *await store.friends(user)}
    live = [t for t in await board_totals(store, board.name) if t.ranked and t.user_id in members]
    live.sort(key=lambda t: total_key(board, t))
    return [(i + 1, t.user_id, t.total) for i, t in enumerate(live)]


async def every_board_is_exact(social: SocialIndex, store: SqliteStore, boards: list[Board], users: list[str]) -> None:
    for board in boards:
        for user in users:
            got = [(e.rank, e.user_id, e.score) for e in await social.friends_board(board, user, USERS)]
            assert got == await reference(store, board, user), (board.name, user)
    for user in users:
        assert await social.friends(user) == sorted(await store.friends(user))


async def test_a_rebuild_refills_every_friends_board_after_flushall(store: SqliteStore, social_urls: list[str]) -> None:
    rng = random.Random(18)
    users = [f"u{i:02}" for i in range(USERS)]
    stars = users[:3]  # followed by most users: heavy on every shard
    boards = [Board("fb-desc", Order.DESC), Board("fb-asc", Order.ASC)]
    for b in boards:
        await store.create_board(b)
    for user in users:
        friends = {f for f in rng.sample(users, rng.randrange(0, 12)) if f != user}
        friends |= {s for s in stars if s != user and rng.random() < 0.8}
        await store.set_friends(user, sorted(friends))
    for b in boards:
        # Few distinct totals: many ties, broken by when each was reached; some tombstones.
        totals = [
            Total(b.name, u, rng.randrange(5), 1, rng.randrange(1_000), LogPosition(0, i), rng.random() < 0.1)
            for i, u in enumerate(users)
        ]
        await store.write_totals(totals, [])

    social = ShardedSocialIndex.over(
        [aioredis.Redis.from_url(u) for u in social_urls], [shard_label(u) for u in social_urls], fan_out_cap=CAP
    )
    index = GenerationalRankIndex(MemoryRankIndex(), MemoryGenerations())
    clients = [aioredis.Redis.from_url(u) for u in social_urls]
    try:
        await rebuild(Job("r1", "rebuild"), store, Boards(store), index, None, social=social, chunk_size=17)
        await every_board_is_exact(social, store, boards, users)
        for c in clients:
            await c.flushall()
        assert await social.friends_board(boards[0], users[5], USERS) == []  # really lost
        await rebuild(Job("r2", "rebuild"), store, Boards(store), index, None, social=social, chunk_size=17)
        await every_board_is_exact(social, store, boards, users)
    finally:
        for c in clients:
            await c.aclose()
        await social.close()
