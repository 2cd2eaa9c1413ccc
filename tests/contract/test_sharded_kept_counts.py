"""A reader keeps each board's segment counts between reads (`index.sharded.read_steps`), good
while the board's change number, its map and its quiet hold. These check that a reader
never answers from counts another client's writes, repairs or half-done batches made
stale: the reader and the writer are separate indexes, as two processes would be."""

from __future__ import annotations

import asyncio
import itertools
import random
from typing import Any

import pytest

from podium.domain.boards import Board
from podium.domain.buckets import SplitPolicy
from podium.domain.totals import LogPosition, Total
from podium.index.memory import MemoryRankIndex
from podium.index.sharded import ShardedRedisRankIndex

_boards = itertools.count()


def board() -> Board:
    return Board(f"kept{next(_boards)}-{random.randrange(10**9)}")


async def exact(reader: ShardedRedisRankIndex, reference: MemoryRankIndex, b: Board) -> None:
    want = [(e.rank, e.user_id, e.score) for e in await reference.page(b, 1, 1000)]
    for rank, user, score in want:
        entry = await reader.entry(b, user)
        assert entry is not None and (entry.rank, entry.score) == (rank, score), user
    for first in range(1, len(want) + 1, 7):
        page = [(e.rank, e.user_id, e.score) for e in await reader.page(b, first, 5)]
        assert page == want[first - 1 : first + 4]


@pytest.fixture
async def pair(redis_shards: list[str]) -> Any:
    """A writer that splits buckets of 8 members over the shards, and a separate reader."""
    writer = ShardedRedisRankIndex.from_urls(redis_shards, policy=SplitPolicy(max_members=8, max_writes_per_s=1e9))
    reader = ShardedRedisRankIndex.from_urls(redis_shards)
    yield writer, reader
    await writer.close()
    await reader.close()


async def test_a_write_by_another_client_is_never_hidden_by_kept_counts(pair: Any, redis_shards: list[str]) -> None:
    writer, reader = pair
    reference = MemoryRankIndex()
    b = board()
    rng = random.Random(5)
    first = [Total(b.name, f"u{i}", rng.randrange(30), 1, i, LogPosition(0, i)) for i in range(60)]
    await writer.apply(b, first)
    reference.apply_now(b, first)
    await writer.finish_moves(b)
    assert len(await reader.buckets(b)) > 3  # several segments over the shards: counts matter
    # Then writes that change no map (this writer never splits): only the change number
    # tells the reader its counts are off.
    steady = ShardedRedisRankIndex.from_urls(redis_shards, policy=SplitPolicy.never())
    versions = dict.fromkeys((t.user_id for t in first), 1)
    try:
        for step in range(20):
            await exact(reader, reference, b)  # keeps counts, which this write makes stale
            batch = []
            for user in rng.sample(sorted(versions), rng.randrange(1, 4)):
                versions[user] += 1
                removed = rng.random() < 0.2
                batch.append(
                    Total(b.name, user, rng.randrange(30), versions[user], step, LogPosition(1, step), removed)
                )
            await steady.apply(b, batch)
            reference.apply_now(b, batch)
        await exact(reader, reference, b)
    finally:
        await steady.close()


async def test_a_repair_by_another_client_is_never_hidden_by_kept_counts(pair: Any) -> None:
    writer, reader = pair
    reference = MemoryRankIndex()
    b = board()
    batch = [Total(b.name, f"u{i}", i % 13, 1, i, LogPosition(0, i)) for i in range(40)]
    await writer.apply(b, batch)
    reference.apply_now(b, batch)
    await writer.finish_moves(b)
    await exact(reader, reference, b)
    # The reconciler writes states and members outright (no lease, no new map).
    fixed = {"u3": Total(b.name, "u3", 99, 2, 0, LogPosition(0, 99)), "u7": None}
    await writer.repair(b, fixed)
    reference.apply_now(b, [Total(b.name, "u3", 99, 2, 0, LogPosition(0, 99))])
    reference.apply_now(b, [Total(b.name, "u7", 0, 2, 0, LogPosition(0, 99), removed=True)])
    await exact(reader, reference, b)


async def test_counts_taken_while_a_batch_is_under_way_are_not_kept(pair: Any) -> None:
    """A batch raises the change number before it moves members; a reader counting after that
    but before the members move must not keep those counts for after the commit."""
    writer, reader = pair
    reference = MemoryRankIndex()
    b = board()
    batch = [Total(b.name, f"u{i}", i % 17, 1, i, LogPosition(0, i)) for i in range(40)]
    await writer.apply(b, batch)
    reference.apply_now(b, batch)
    await writer.finish_moves(b)
    await exact(reader, reference, b)

    begun, go_on = asyncio.Event(), asyncio.Event()
    move = writer._move

    async def held_move(*args: Any) -> None:
        begun.set()
        await go_on.wait()
        await move(*args)

    writer._move = held_move
    top = [Total(b.name, f"new{i}", 100 + i, 1, 0, LogPosition(0, 100 + i)) for i in range(3)]
    writing = asyncio.create_task(writer.apply(b, top))
    await begun.wait()
    await exact(reader, reference, b)  # begun, nothing moved yet: the old answers
    go_on.set()
    await writing
    reference.apply_now(b, top)
    await exact(reader, reference, b)


async def test_kept_counts_on_a_board_whose_home_shard_holds_no_bucket(pair: Any, redis_shards: list[str]) -> None:
    """The home shard's script then counts no set, and must still say whether the reader's
    counts are good."""
    _, reader = pair
    reference = MemoryRankIndex()
    b = board()
    # This writer splits and moves only when told, and its mover never evens the shards out.
    steady = ShardedRedisRankIndex.from_urls(redis_shards, policy=SplitPolicy.never(), background_mover=False)
    batch = [Total(b.name, f"u{i}", i % 11, 1, i, LogPosition(0, i)) for i in range(30)]
    await steady.apply(b, batch)
    reference.apply_now(b, batch)
    home = steady.home(b.name)
    [only] = await steady.buckets(b)
    assert await steady.move_bucket(b, only.id, (home + 1) % len(redis_shards))
    while await steady.move_step(b.name):
        pass
    [moved] = await steady.buckets(b)
    assert await steady.split(b, moved.id)
    while await steady.move_step(b.name):
        pass
    for bucket in await steady.buckets(b):
        if bucket.shard == home:  # the split put the new half on the emptiest shard: home
            assert await steady.move_bucket(b, bucket.id, (home + 2) % len(redis_shards))
            while await steady.move_step(b.name):
                pass
    shards = [x.shard for x in await reader.buckets(b)]
    assert len(shards) == 2 and home not in shards
    try:
        for step in range(5):
            await exact(reader, reference, b)
            moved = [Total(b.name, f"u{step}", 50 + step, 2, 0, LogPosition(1, step))]
            await steady.apply(b, moved)
            reference.apply_now(b, moved)
        await exact(reader, reference, b)
    finally:
        await steady.close()
