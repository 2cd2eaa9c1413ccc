"""The social shards are recoverable: after FLUSHALL on every one of them, `rebuild` puts
back every friend list and every friends board from the store, each equal to a plain
reference sorted out of the store's graph and totals — heavy users (over the fan-out cap)
and ties included; and the reconciler finds friends boards drifted behind the index's back
and repairs them."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis

from podium.domain.boards import Board, Order
from podium.domain.ordering import total_key
from podium.domain.totals import LogPosition, Total
from podium.index.generations import GenerationalRankIndex, MemoryGenerations
from podium.index.memory import MemoryRankIndex
from podium.plumbing import names
from podium.social.base import SocialIndex
from podium.social.placement import shard_label
from podium.social.sharded import ShardedSocialIndex
from podium.store.base import board_totals
from podium.store.sqlite import SqliteStore
from podium.usecases.board_settings import Boards
from podium.usecases.jobs import Job
from podium.usecases.rebuild import rebuild
from podium.usecases.reconcile import Reconciler, ReconcileSettings
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


async def seeded(store: SqliteStore) -> tuple[list[str], list[Board]]:
    """A graph with a few stars followed by most users, and two boards of tied totals."""
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
    return users, boards


def sharded(social_urls: list[str]) -> ShardedSocialIndex:
    return ShardedSocialIndex.over(
        [aioredis.Redis.from_url(u) for u in social_urls], [shard_label(u) for u in social_urls], fan_out_cap=CAP
    )


async def test_a_rebuild_refills_every_friends_board_after_flushall(store: SqliteStore, social_urls: list[str]) -> None:
    users, boards = await seeded(store)
    social = sharded(social_urls)
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


@pytest.mark.parametrize("full_check_users", [10_000, 30])
async def test_the_reconciler_repairs_drifted_friends_boards(
    store: SqliteStore, social_urls: list[str], full_check_users: int
) -> None:
    """Drift planted straight into the shards: a member the board never had, a friend's
    entry gone, a friend list short of one. Small graphs are checked user by user; a big
    one (more users with lists than `full_check_users`) by a sample, which still repairs
    the drifted users it draws."""
    users, boards = await seeded(store)
    social = sharded(social_urls)
    index = GenerationalRankIndex(MemoryRankIndex(), MemoryGenerations())
    clients = [aioredis.Redis.from_url(u) for u in social_urls]
    try:
        for c in clients:
            await c.flushall()
        await rebuild(Job("r", "rebuild"), store, Boards(store), index, None, social=social, chunk_size=50)
        board = boards[0]

        def home_of(user: str) -> aioredis.Redis:
            return clients[social.shards.index(social.home(user))]

        async def fanned_out(user: str) -> list[bytes]:
            """The friends on the user's precomputed board (not read at query time)."""
            board_key = names.friends_board_key(board.name, user)
            return [m for m in await home_of(user).zrange(board_key, 0, -1) if not m.decode().endswith(f":{user}")]

        # A user with a friend fanned out on write: placement, hence who is heavy on which
        # shard, follows the private servers' ports, so the test looks rather than assumes.
        second = None
        for u in users[11:]:
            if u != users[12] and await fanned_out(u):
                second = u
                break
        assert second is not None, "no board with a friend fanned out on write"
        planted = [users[10], second, users[12]]
        home = {u: home_of(u) for u in planted}
        await home[planted[0]].zadd(names.friends_board_key(board.name, planted[0]), {"0000000000000001:ghost": -99})
        fanned = await fanned_out(planted[1])
        assert await home[planted[1]].zrem(names.friends_board_key(board.name, planted[1]), fanned[0]) == 1
        await home[planted[2]].srem(names.friends_key(planted[2]), (await store.friends(planted[2]))[0])
        settings = ReconcileSettings(settle_s=0, full_check_users=full_check_users, sample_users=len(users))
        reconciler = Reconciler(store, Boards(store), index, settings, social)
        report = (await reconciler.run([board.name])).to_json()
        row = report["boards"][0]
        assert row["friends_check"] == ("every_user" if full_check_users > USERS else "sampled")
        assert set(planted) <= set(row["friends_drift"]), row["friends_drift"]
        assert row["friends_remaining"] == 0 and report["totals"]["remaining"] == 0
        await every_board_is_exact(social, store, boards, users)
    finally:
        for c in clients:
            await c.aclose()
        await social.close()
