"""Adding a social shard while scores and list changes flow: the shard joins (written,
not read), `fill_joining` copies the store onto it, it starts to serve, `prune_moved`
clears the old homes — and at every step every friends board equals a plain reference
sorted out of the store, read through the processes' view of the moment."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis

from podium.domain.boards import Board
from podium.domain.ordering import total_key
from podium.domain.totals import LogPosition, Total
from podium.social.grow import fill_joining, prune_moved
from podium.social.placement import shard_label
from podium.social.refill import refill_social
from podium.social.sharded import ShardedSocialIndex
from podium.store.base import board_totals
from podium.store.sqlite import SqliteStore
from podium.usecases.board_settings import Boards
from podium.usecases.jobs import Job
from podium.usecases.period_boards import with_periods
from tests.engines import private_redis

USERS = 60
CAP = 8


@pytest.fixture(scope="module")
def urls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    base = tmp_path_factory.mktemp("grow")
    servers = [private_redis(base / f"s{i}") for i in range(3)]
    yield [next(s) for s in servers]
    for s in servers:
        next(s, None)


def view(urls: list[str], *, joining: list[int] | None = None) -> ShardedSocialIndex:
    """The index as a process configured with these shards sees it."""
    clients = [aioredis.Redis.from_url(u) for u in urls]
    return ShardedSocialIndex.over(clients, [shard_label(u) for u in urls], fan_out_cap=CAP, joining=joining or [])


async def exact(social: ShardedSocialIndex, store: SqliteStore, board: Board, users: list[str]) -> None:
    totals = {t.user_id: t for t in await board_totals(store, board.name)}
    for user in users:
        friends = await store.friends(user)
        live = sorted(
            (t for u in {user, *friends} if (t := totals.get(u)) is not None and t.ranked),
            key=lambda t: total_key(board, t),
        )
        got = [(e.user_id, e.score) for e in await social.friends_board(board, user, USERS)]
        assert got == [(t.user_id, t.total) for t in live], user
        assert await social.friends(user) == sorted(friends), user


async def test_a_shard_added_under_load_keeps_every_friends_board_exact(store: SqliteStore, urls: list[str]) -> None:
    rng = random.Random(7)
    users = [f"g{i:02}" for i in range(USERS)]
    board = Board("grow")
    await store.create_board(board)
    boards = Boards(store)
    versions: dict[str, int] = {}

    async def score(social: ShardedSocialIndex, user: str) -> None:
        v = versions[user] = versions.get(user, 0) + 1
        t = Total(board.name, user, rng.randrange(50), v, rng.randrange(10**6), LogPosition(0, v))
        await store.write_totals([t], [])  # the store first, then the index: as the pipeline does
        await social.apply(board, [t])

    async def relist(social: ShardedSocialIndex, user: str) -> None:
        friends = sorted({f for f in rng.sample(users, rng.randrange(0, 10)) if f != user} | {users[0]} - {user})
        await store.set_friends(user, friends)
        await social.replace_friends(user, friends)

    async def traffic(social: ShardedSocialIndex, rounds: int) -> None:
        for i in range(rounds):
            await score(social, rng.choice(users))
            if i % 3 == 0:
                await relist(social, rng.choice(users))
            await asyncio.sleep(0)

    before, joining, after = view(urls[:2]), view(urls, joining=[2]), view(urls)
    try:
        for c in [s._redis for s in after.shards]:
            await c.flushall()
        for user in users:
            await relist(before, user)
        for user in users:
            await score(before, user)
        await exact(before, store, board, users)
        # The shard joins: the processes write it too; the fill runs beside their traffic.
        await asyncio.gather(
            traffic(joining, 200),
            fill_joining(store, await with_periods(boards, await store.board_names()), joining, chunk_size=7),
        )
        await exact(joining, store, board, users)  # reads still from the old homes
        await exact(after, store, board, users)  # and the new shard is whole already
        moved = [u for u in users if after.home(u) is after.shards[2]]
        assert 0 < len(moved) < USERS / 2
        await traffic(after, 100)  # it serves
        await exact(after, store, board, users)
        assert await prune_moved(store, after) >= 1
        await exact(after, store, board, users)
        for user in moved:
            assert not any([await s.friends(user) for s in after.shards[:2]]), user
        await refill_social(Job("r", "rebuild"), store, after, [board], chunk_size=50)  # a no-op now
        await exact(after, store, board, users)
    finally:
        for s in (before, joining, after):
            await s.close()
