"""The sharded index's single-bucket path: a board that is one settled bucket on its home
shard is written by one script a batch. It must give the general path's answers, hand the
board over to the general path when a split starts (here or in another process), and
clean what a general attempt that died left behind."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from podium.domain.buckets import SplitPolicy
from podium.errors import BackendUnavailable
from podium.index.memory import MemoryRankIndex
from podium.index.sharded import ShardedRedisRankIndex
from podium.plumbing import names
from tests.contract.test_sharded_index import board, same_answers, totals


class Counted:
    """A script of every shard, counting its calls."""

    def __init__(self, scripts: list[Any]) -> None:
        self.calls = 0
        self.scripts = scripts

    def __getitem__(self, shard: int) -> Any:
        async def run(**kwargs: Any) -> Any:
            self.calls += 1
            return await self.scripts[shard](**kwargs)

        return run


def count_paths(index: ShardedRedisRankIndex) -> tuple[Counted, Counted]:
    """(single-script batches, general batches) of this index from now on."""
    single, begin = Counted(index._apply_single_script), Counted(index._begin)
    index._apply_single_script, index._begin = single, begin  # type: ignore[assignment]
    return single, begin


@pytest.fixture
def shards(redis_shards: list[str]) -> list[str]:
    return redis_shards


async def test_a_one_bucket_board_takes_one_script_a_batch(shards: list[str]) -> None:
    index = ShardedRedisRankIndex.from_urls(shards, policy=SplitPolicy.never(), wait_replicas=1)
    single, general = count_paths(index)
    reference = MemoryRankIndex()
    b = board()
    try:
        for version in range(1, 6):
            batch = totals(b, 40, seed=version, version=version)
            assert len(await index.apply(b, batch)) == 40
            reference.apply_now(b, batch)
            assert len(await index.apply(b, batch)) == 0  # redelivered: nothing is newer
        assert (single.calls, general.calls) == (10, 0)
        await same_answers(index, reference, b, 40)
        assert [x.members for x in await index.buckets(b)] == [40]
    finally:
        await index.close()


async def test_a_board_growing_past_its_threshold_goes_over_to_the_general_path(shards: list[str]) -> None:
    """Batches of new users and updates fill a board past its member threshold: it splits
    after the batch that crossed it, and the batches after go the general way."""
    index = ShardedRedisRankIndex.from_urls(shards, policy=SplitPolicy(max_members=30, max_writes_per_s=1e9))
    single, general = count_paths(index)
    reference = MemoryRankIndex()
    b = board()
    try:
        for version in range(1, 9):
            batch = totals(b, 8 * version, seed=version, version=version)  # 8 more users each time
            await index.apply(b, batch)
            reference.apply_now(b, batch)
            await same_answers(index, reference, b, 8 * version)
        assert single.calls == 4  # 8, 16, 24, then 32 users: over 30, split after that batch
        assert general.calls >= 4
        await index.finish_moves(b)
        assert len(await index.buckets(b)) > 1
        await same_answers(index, reference, b, 64)
    finally:
        await index.close()


async def test_a_split_by_another_process_sends_the_next_batch_the_general_way(shards: list[str]) -> None:
    """The writer last saw one bucket; another process splits it and carries the members
    over between two of its batches: the script sees the new map and refuses, and the
    batch goes the general way with the map as it now is."""
    writer = ShardedRedisRankIndex.from_urls(shards)
    splitter = ShardedRedisRankIndex.from_urls(shards, background_mover=False)
    single, general = count_paths(writer)
    reference = MemoryRankIndex()
    b = board()
    try:
        first = totals(b, 30)
        await writer.apply(b, first)
        reference.apply_now(b, first)
        [only] = await splitter.buckets(b)
        assert await splitter.split(b, only.id)
        await splitter.move_step(b.name)  # one batch of the transit: the board is mid-move
        second = totals(b, 30, seed=5, version=2)
        assert len(await writer.apply(b, second)) == 30
        reference.apply_now(b, second)
        assert (single.calls, general.calls) == (2, 1)  # the second refused, then the general way
        await same_answers(writer, reference, b, 30)
        await splitter.finish_moves(b)
        await same_answers(writer, reference, b, 30)
    finally:
        await writer.close()
        await splitter.close()


async def test_a_locked_board_waits_then_goes_on(shards: list[str]) -> None:
    index = ShardedRedisRankIndex.from_urls(shards)
    reference = MemoryRankIndex()
    b = board()
    try:
        first = totals(b, 10)
        await index.apply(b, first)
        reference.apply_now(b, first)
        home = index._shards[index.home(b.name)]
        await home.set(names.split_lock_key(b.name), "someone", px=5000)
        second = totals(b, 10, seed=3, version=2)
        writing = asyncio.create_task(index.apply(b, second))
        await asyncio.sleep(0.2)
        assert not writing.done()  # no write under the lock, by either path
        await home.delete(names.split_lock_key(b.name))
        assert len(await asyncio.wait_for(writing, 5)) == 10
        reference.apply_now(b, second)
        await same_answers(index, reference, b, 10)
    finally:
        await index.close()


async def test_members_a_dead_general_attempt_added_are_cleaned_by_the_script(shards: list[str]) -> None:
    """A general batch moves its members, then dies before its commit, leaving them recorded
    in its intent; the next batch of the same users, by the single script, takes them out."""
    index = ShardedRedisRankIndex.from_urls(shards, policy=SplitPolicy.never())
    reference = MemoryRankIndex()
    b = board()
    try:
        first = totals(b, 12)
        await index.apply(b, first)
        reference.apply_now(b, first)

        class Dies:
            async def __call__(self, **kwargs: Any) -> Any:
                raise BackendUnavailable("redis: connection lost before the commit")

        scripts = index._commit
        index.single_bucket_path = False
        index._commit = [Dies() for _ in scripts]
        with pytest.raises(BackendUnavailable):
            await index.apply(b, totals(b, 12, seed=7, version=2))  # moved, never committed
        index._commit = scripts
        index.single_bucket_path = True
        home = index._shards[index.home(b.name)]
        assert await home.hlen(names.intents_key(b.name)) > 0
        single, general = count_paths(index)
        third = totals(b, 12, seed=8, version=3)
        assert len(await index.apply(b, third)) == 12
        reference.apply_now(b, third)
        assert (single.calls, general.calls) == (1, 0)
        assert await home.hlen(names.intents_key(b.name)) == 0
        await same_answers(index, reference, b, 12)
        assert sum(x.members for x in await index.buckets(b)) == 12
    finally:
        await index.close()


async def test_a_single_script_writer_racing_a_general_one_leaves_no_strays(shards: list[str]) -> None:
    """A rebuild's writer on the general path and the rank-worker on the single script write
    the same users at once: whichever commits second, no member is left behind."""
    fast = ShardedRedisRankIndex.from_urls(shards, policy=SplitPolicy.never())
    slow = ShardedRedisRankIndex.from_urls(shards, policy=SplitPolicy.never())
    slow.single_bucket_path = False
    reference = MemoryRankIndex()
    b = board()
    try:
        for version in range(1, 13):
            older = totals(b, 40, seed=version, version=version)
            newer = totals(b, 40, seed=99 + version, version=version + 1)
            pair = (fast.apply(b, older), slow.apply(b, newer))
            await asyncio.gather(*(pair if version % 2 else pair[::-1]))
            reference.apply_now(b, older)
            reference.apply_now(b, newer)
        assert await fast.count(b) == 40
        assert sum(x.members for x in await fast.buckets(b)) == 40
        await same_answers(fast, reference, b, 40)
    finally:
        await fast.close()
        await slow.close()
