"""Rebuilding a board under a new generation, for every rank index adapter: writes
applied during the rebuild are not lost, readers see the old generation until the
swap and the new one after, and the old generation's keys are gone once dropped."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from podium.domain.boards import Board, Order
from podium.domain.buckets import SplitPolicy
from podium.domain.totals import LogPosition, Total
from podium.index.generations import (
    GenerationalRankIndex,
    MemoryGenerations,
    RebuildRunning,
    RedisGenerations,
)
from podium.index.memory import MemoryRankIndex
from podium.index.sharded import ShardedRedisRankIndex
from podium.plumbing import names

_boards = itertools.count()
StoredBoards = Callable[[], Awaitable[set[str]]]


def fresh_board() -> Board:
    return Board(f"gen{next(_boards)}-{id(object())}", Order.DESC)


@pytest.fixture(params=["memory", "redis", "sharded"])
async def gen_index(request: pytest.FixtureRequest) -> AsyncIterator[tuple[GenerationalRankIndex, StoredBoards]]:
    """The wrapped adapter, and a function listing the storage boards it holds keys of."""
    import redis.asyncio as aioredis

    if request.param == "memory":
        memory = MemoryRankIndex()
        index = GenerationalRankIndex(memory, MemoryGenerations())

        async def memory_boards() -> set[str]:
            return set(memory._boards)

        yield index, memory_boards
        await index.close()
        return
    if request.param == "redis":
        url = request.getfixturevalue("redis_pair")[0]
        urls = [url]
        inner = ShardedRedisRankIndex.from_urls([url], policy=SplitPolicy.never(), wait_replicas=1)
    else:
        urls = request.getfixturevalue("redis_shards")
        # Tiny buckets: both generations split, move and settle on their own.
        inner = ShardedRedisRankIndex.from_urls(urls, policy=SplitPolicy(max_members=4, max_writes_per_s=1e9))
    clients = [aioredis.Redis.from_url(u) for u in urls]
    index = GenerationalRankIndex(inner, RedisGenerations(aioredis.Redis.from_url(urls[0])))

    async def redis_boards() -> set[str]:
        found = set()
        for client in clients:
            async for key in client.scan_iter(match=f"{names.REDIS_PREFIX}:{{*", count=1000):
                found.add(key.decode().split("{", 1)[1].split("}", 1)[0])
        return found

    yield index, redis_boards
    await index.close()
    for client in clients:
        await client.aclose()


def total(board: Board, user: str, score: int, version: int, *, removed: bool = False) -> Total:
    return Total(board.name, user, score, version, version, LogPosition(0, version), removed=removed)


async def ranking(index: GenerationalRankIndex, board: Board) -> list[tuple[str, int]]:
    return [(e.user_id, e.score) for e in await index.page(board, 1, 1000)]


async def test_a_rebuild_misses_no_write_and_swaps_in_at_once(
    gen_index: tuple[GenerationalRankIndex, StoredBoards],
) -> None:
    index, stored = gen_index
    board = fresh_board()
    before = [total(board, f"u{i:02}", i, 1) for i in range(20)]
    await index.apply(board, before)
    # The rebuild reads the store after marking its generation: the store's copy is `before`.
    generation = await index.begin_rebuild(board)
    assert generation == 1
    during = [
        total(board, "u05", 500, 2),  # a user the store read will carry at an older version
        total(board, "u07", 0, 2, removed=True),
        total(board, "new", 300, 1),
    ]
    await index.apply(board, during[:2])
    await index.fill(board, generation, before[:10])
    await index.apply(board, during[2:])
    await index.fill(board, generation, before[10:])

    # Readers stay on the old generation, which the writes reached too.
    expected = sorted(
        [(t.user_id, t.total) for t in before if t.user_id not in ("u05", "u07")] + [("u05", 500), ("new", 300)],
        key=lambda e: -e[1],
    )
    assert await ranking(index, board) == expected
    assert names.generation_board(board.name, 1) in await stored()
    if isinstance(index.inner, ShardedRedisRankIndex) and index.inner.policy.max_members < 100:
        new_storage = index.storage(board, generation)
        assert len(await index.inner.buckets(new_storage)) > 1  # the new generation split on its own
        await index.inner.finish_moves(new_storage)

    old = await index.swap(board, generation)
    assert old == 0
    assert await ranking(index, board) == expected
    assert await index.count(board) == len(expected)
    entry = await index.entry(board, "u05")
    assert entry is not None and (entry.rank, entry.score) == (1, 500)
    assert await index.position(board, "new") == LogPosition(0, 1)

    # After the swap, writes land in the new generation only; the old one is dropped.
    await index.apply(board, [total(board, "u00", 1000, 2)])
    assert (await ranking(index, board))[0] == ("u00", 1000)
    await index.drop(board, old)
    boards = await stored()
    assert board.name not in boards
    assert names.generation_board(board.name, 1) in boards
    assert (await ranking(index, board))[0] == ("u00", 1000)


async def test_one_rebuild_at_a_time_unless_forced(gen_index: tuple[GenerationalRankIndex, StoredBoards]) -> None:
    index, stored = gen_index
    board = fresh_board()
    await index.apply(board, [total(board, "a", 1, 1)])
    first = await index.begin_rebuild(board)
    await index.fill(board, first, [total(board, "a", 1, 1)])
    with pytest.raises(RebuildRunning):
        await index.begin_rebuild(board)
    with pytest.raises(RebuildRunning):
        await index.drop(board, first)  # in use: never dropped under a rebuild
    # The first rebuild's process died: force abandons it (and its keys) and starts anew.
    second = await index.begin_rebuild(board, force=True)
    assert second == first + 1
    assert names.generation_board(board.name, first) not in await stored()
    assert await index.swap(board, first) is None  # the abandoned rebuild cannot swap in
    await index.fill(board, second, [total(board, "a", 1, 1)])
    assert await index.swap(board, second) == 0
    assert await ranking(index, board) == [("a", 1)]


async def test_an_abandoned_rebuild_leaves_the_board_as_it_was(
    gen_index: tuple[GenerationalRankIndex, StoredBoards],
) -> None:
    index, stored = gen_index
    board = fresh_board()
    await index.apply(board, [total(board, "a", 5, 1), total(board, "b", 3, 1)])
    generation = await index.begin_rebuild(board)
    await index.fill(board, generation, [total(board, "a", 5, 1)])
    await index.apply(board, [total(board, "c", 4, 1)])
    await index.abandon(board, generation)
    assert names.generation_board(board.name, generation) not in await stored()
    assert await ranking(index, board) == [("a", 5), ("c", 4), ("b", 3)]
    # The next rebuild takes a fresh generation: the abandoned one's keys are never reused.
    assert await index.begin_rebuild(board) == generation + 1
