"""The sharded index's own promises: buckets split on their own and spread over the
shards, reads stay exact at every step of a transit, writers wait while the board is
locked."""

from __future__ import annotations

import asyncio
import itertools
import random
from typing import Any

import pytest

from podium.domain.boards import Board, Order
from podium.domain.buckets import SplitPolicy
from podium.domain.totals import LogPosition, Total
from podium.index.memory import MemoryRankIndex
from podium.index.sharded import ShardedRedisRankIndex
from podium.index.sharded.mover import LOCK_TTL_MS
from podium.plumbing import names

_boards = itertools.count()


def board(order: Order = Order.DESC) -> Board:
    return Board(f"sharded{next(_boards)}-{random.randrange(10**9)}", order)


def totals(b: Board, n: int, *, seed: int = 1, version: int = 1) -> list[Total]:
    rng = random.Random(seed)
    return [
        Total(b.name, f"u{i}", rng.randrange(0, 50), version, rng.randrange(10), LogPosition(0, version))
        for i in range(n)
    ]


async def same_answers(index: Any, reference: MemoryRankIndex, b: Board, users: int) -> None:
    want = [(e.rank, e.user_id, e.score) for e in await reference.page(b, 1, users)]
    assert [(e.rank, e.user_id, e.score) for e in await index.page(b, 1, users)] == want
    assert await index.count(b) == len(want)
    for rank, user, score in want:
        entry = await index.entry(b, user)
        assert entry is not None and (entry.rank, entry.score) == (rank, score), user
    for first in (1, 5, 17, len(want)):
        got = [(e.rank, e.user_id) for e in await index.page(b, first, 7)]
        assert got == [(r, u) for r, u, _ in want[first - 1 : first + 6]]


@pytest.fixture
def shards(redis_shards: list[str]) -> list[str]:
    return redis_shards


async def test_buckets_split_on_their_own_and_spread_over_shards(shards: list[str]) -> None:
    index = ShardedRedisRankIndex.from_urls(shards, policy=SplitPolicy(max_members=10, max_writes_per_s=1e9))
    reference = MemoryRankIndex()
    b = board()
    try:
        for chunk in range(0, 200, 20):
            batch = totals(b, 200)[chunk : chunk + 20]
            await index.apply(b, batch)
            reference.apply_now(b, batch)
        await same_answers(index, reference, b, 200)  # exact with movers still at work
        await index.finish_moves(b)
        buckets = await index.buckets(b)
        assert len(buckets) >= 200 // 10
        assert all(x.members <= 10 for x in buckets)
        assert sum(x.members for x in buckets) == 200
        assert {x.shard for x in buckets} == {0, 1, 2}
        await same_answers(index, reference, b, 200)
        # Everyone's score changes: members move between buckets, and shards.
        moved = totals(b, 200, seed=2, version=2)
        await index.apply(b, moved)
        reference.apply_now(b, moved)
        await same_answers(index, reference, b, 200)
    finally:
        await index.close()


async def test_reads_are_exact_at_every_step_of_a_transit(shards: list[str]) -> None:
    """A split is one map change; the mover then carries the members over a batch at a
    time. Between any two batches, and after writes made meanwhile, every answer is exact."""
    index = ShardedRedisRankIndex.from_urls(
        shards, policy=SplitPolicy(max_members=1000, max_writes_per_s=1e9), move_batch=2, background_mover=False
    )
    reference = MemoryRankIndex()
    b = board(Order.ASC)
    try:
        batch = totals(b, 40)
        await index.apply(b, batch)
        reference.apply_now(b, batch)
        [only] = await index.buckets(b)
        assert await index.split(b, only.id)
        first, new = await index.buckets(b)
        # The split keeps three quarters (domain.buckets.split_position); nothing carried yet.
        assert (first.members, new.members, new.moving) == (30, 10, 10)
        assert not await index.split(b, first.id)  # not before its mover ends
        steps = 0
        while (await index.buckets(b))[1].moving:
            await same_answers(index, reference, b, 40)
            assert await index.move_step(b.name)
            steps += 1
            if steps % 3 == 0:  # writes land in whichever set the map gives their key
                more = totals(b, 40, seed=steps, version=steps + 1)[steps : steps + 5]
                await index.apply(b, more)
                reference.apply_now(b, more)
        assert steps >= 10 // 2
        assert await index.move_step(b.name)  # settles the bucket
        assert not await index.move_step(b.name)
        assert [x.moving for x in await index.buckets(b)] == [0, 0]
        await same_answers(index, reference, b, 40)
    finally:
        await index.close()


async def test_reads_running_beside_the_mover_stay_exact(shards: list[str]) -> None:
    """Readers never wait for the mover: one that read the map before a batch was trimmed
    sees the set's trim mark and reads again, so no answer is ever off."""
    index = ShardedRedisRankIndex.from_urls(
        shards, policy=SplitPolicy(max_members=10**6, max_writes_per_s=1e9), move_batch=4
    )
    reader = ShardedRedisRankIndex.from_urls(shards)
    reference = MemoryRankIndex()
    b = board()
    try:
        batch = totals(b, 300, seed=3)
        await index.apply(b, batch)
        reference.apply_now(b, batch)
        want = [(e.rank, e.user_id, e.score) for e in await reference.page(b, 1, 300)]
        [only] = await index.buckets(b)
        assert await index.split(b, only.id)  # the background mover starts
        reads_in_transit = 0
        while any(x.moving for x in await reader.buckets(b)):
            assert [(e.rank, e.user_id, e.score) for e in await reader.page(b, 140, 30)] == want[139:169]
            user = want[reads_in_transit % 300][1]
            entry = await reader.entry(b, user)
            assert entry is not None and entry.rank == reads_in_transit % 300 + 1
            reads_in_transit += 1
        assert reads_in_transit > 5, reads_in_transit
        await same_answers(reader, reference, b, 300)
    finally:
        await index.close()
        await reader.close()


async def test_writers_wait_while_a_split_holds_the_board(shards: list[str]) -> None:
    index = ShardedRedisRankIndex.from_urls(shards)
    b = board()
    try:
        await index.apply(b, totals(b, 5))
        home = index._shards[index.home(b.name)]
        await home.set(names.split_lock_key(b.name), "someone", px=5000)
        writing = asyncio.create_task(index.apply(b, totals(b, 5, seed=9, version=2)))
        await asyncio.sleep(0.2)
        assert not writing.done()
        assert (await index.entry(b, "u0")) is not None  # reads go on meanwhile
        await home.delete(names.split_lock_key(b.name))
        assert len(await asyncio.wait_for(writing, 5)) == 5
        assert (await index.position(b, "u0")) == LogPosition(0, 2)
    finally:
        await index.close()


async def test_a_skewed_board_splits_until_every_bucket_is_under_its_threshold(shards: list[str]) -> None:
    """90% of the users within 1% of the score range: splits cut by rank key, not by
    score, so even a crowd on a few scores ends in buckets under the threshold."""
    index = ShardedRedisRankIndex.from_urls(shards, policy=SplitPolicy(max_members=100, max_writes_per_s=1e9))
    reference = MemoryRankIndex()
    b = board()
    rng = random.Random(4)
    users = 2000
    scores = [rng.randrange(0, 10) if rng.random() < 0.9 else rng.randrange(0, 1000) for _ in range(users)]
    try:
        for start in range(0, users, 250):
            batch = [
                Total(b.name, f"p{i}", scores[i], 1, rng.randrange(10**6), LogPosition(0, 1))
                for i in range(start, start + 250)
            ]
            await index.apply(b, batch)
            reference.apply_now(b, batch)
        # A bucket over the threshold while in transit splits once its mover settles it.
        await index.finish_moves(b)
        buckets = await index.buckets(b)
        assert not any(x.moving for x in buckets)
        assert all(x.members <= 100 for x in buckets), [x.members for x in buckets]
        assert len(buckets) >= users // 100
        assert sum(x.members for x in buckets) == users
        shard_members = {s: sum(x.members for x in buckets if x.shard == s) for s in range(3)}
        assert min(shard_members.values()) > users // 6, shard_members  # spread over the shards
        crowded = [x for x in buckets if x.lower is not None and x.lower[0] > -10]
        assert len(crowded) > 10  # the crowd at scores 0-9 got many buckets of its own
        await same_answers(index, reference, b, users)
    finally:
        await index.close()


async def test_a_writer_whose_lease_lapsed_cannot_move_members_under_a_split(
    shards: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer stalls past its lease; a split and its mover run meanwhile. Its moves,
    made with the old map, are refused by the mover's fences; it retries with the new map.
    (The general path's lease: a one-bucket board's single script holds none.)"""
    writer = ShardedRedisRankIndex.from_urls(shards, lease_ms=300)
    writer.single_bucket_path = False
    splitter = ShardedRedisRankIndex.from_urls(shards, lease_ms=300)
    reference = MemoryRankIndex()
    b = board()
    first = totals(b, 30)
    await writer.apply(b, first)
    reference.apply_now(b, first)
    original = ShardedRedisRankIndex._move
    stalled = []

    async def stall_then_move(self: Any, board_name: str, shard: int, epoch: int, ops: Any) -> None:
        if not stalled:  # once: stall past the lease while the other process splits
            stalled.append(True)
            await asyncio.sleep(0.4)
            [only] = await splitter.buckets(b)
            assert await splitter.split(b, only.id)
            await splitter.finish_moves(b)
        await original(self, board_name, shard, epoch, ops)

    monkeypatch.setattr(ShardedRedisRankIndex, "_move", stall_then_move)
    try:
        second = totals(b, 30, seed=5, version=2)
        assert len(await writer.apply(b, second)) == 30
        reference.apply_now(b, second)
        assert len(await writer.buckets(b)) == 2
        await same_answers(writer, reference, b, 30)
    finally:
        await writer.close()
        await splitter.close()


async def test_a_mover_that_stalls_past_its_lock_changes_nothing_the_writers_wrote(shards: list[str]) -> None:
    """The mover copies a batch, then stalls past its lock before it moves the map's cursor
    (its renewals lost with its connection); writers, no longer held off, change users of
    that batch. When the mover wakes, its map change is refused: the copies stay uncounted,
    and the next batch carries the users as the writers left them."""
    mover = ShardedRedisRankIndex.from_urls(
        shards, policy=SplitPolicy(max_members=1000, max_writes_per_s=1e9), background_mover=False
    )
    writer = ShardedRedisRankIndex.from_urls(shards, background_mover=False)
    reference = MemoryRankIndex()
    b = board()
    first = totals(b, 40)
    await writer.apply(b, first)
    reference.apply_now(b, first)
    [only] = await mover.buckets(b)
    assert await mover.split(b, only.id)

    async def renewals_lost(home: int, lock: str, token: str) -> None:
        await asyncio.sleep(3600)

    set_map = mover._set_map
    stalls = []

    async def stall_then_set(board_name: str, read: Any, new: Any) -> Any:
        if not stalls:  # once: the lock lapses, the writers change every user meanwhile
            stalls.append(True)
            await asyncio.sleep(LOCK_TTL_MS / 1000 + 0.5)
            second = totals(b, 40, seed=7, version=2)
            await writer.apply(b, second)
            reference.apply_now(b, second)
        return await set_map(board_name, read, new)

    mover._keep_lock = renewals_lost  # type: ignore[method-assign]
    mover._set_map = stall_then_set  # type: ignore[method-assign]
    try:
        await mover.move_step(b.name)
        assert stalls
        await same_answers(writer, reference, b, 40)
        mover._set_map = set_map  # type: ignore[method-assign]
        await mover.finish_moves(b)
        assert not any(x.moving for x in await writer.buckets(b))
        await same_answers(writer, reference, b, 40)
        await same_answers(mover, reference, b, 40)
    finally:
        await mover.close()
        await writer.close()


async def test_a_fence_left_by_a_dead_split_is_lowered(shards: list[str]) -> None:
    index = ShardedRedisRankIndex.from_urls(shards)
    b = board()
    try:
        await index.apply(b, totals(b, 5))
        [only] = await index.buckets(b)
        client = index._shards[only.shard]
        await client.set(names.bucket_fence_key(b.name, only.id), 99)  # a split raised it, then died
        assert len(await index.apply(b, totals(b, 5, seed=2, version=2))) == 5
        assert int(await client.get(names.bucket_fence_key(b.name, only.id))) == 0
    finally:
        await index.close()


async def test_members_added_by_an_attempt_that_never_committed_are_cleaned(shards: list[str]) -> None:
    """A batch moves its members, then dies before its commit (Redis went away); the next
    batch brings the same users' newer totals: nothing of the dead attempt remains."""
    from podium.errors import BackendUnavailable

    index = ShardedRedisRankIndex.from_urls(shards, policy=SplitPolicy(max_members=4, max_writes_per_s=1e9))
    reference = MemoryRankIndex()
    b = board()
    try:
        first = totals(b, 12)
        await index.apply(b, first)
        reference.apply_now(b, first)
        scripts = index._commit

        class Dies:
            def __init__(self, script: Any) -> None:
                self.script = script

            async def __call__(self, **kwargs: Any) -> Any:
                raise BackendUnavailable("redis: connection lost before the commit")

        index._commit = [Dies(s) for s in scripts]
        with pytest.raises(BackendUnavailable):
            await index.apply(b, totals(b, 12, seed=7, version=2))  # moved, never committed
        index._commit = scripts
        third = totals(b, 12, seed=8, version=3)
        await index.apply(b, third)
        reference.apply_now(b, third)
        await same_answers(index, reference, b, 12)
        assert sum(x.members for x in await index.buckets(b)) == 12
    finally:
        await index.close()


@pytest.mark.parametrize("other_path", ["general", "single_bucket"])
async def test_a_writer_alone_at_its_begin_still_sees_a_commit_that_came_before_its_own(
    shards: list[str], other_path: str
) -> None:
    """A writer that held the board's only lease at its begin commits without reading the
    states again, unless the board's change number moved since: another writer began (the
    general path) or wrote the one bucket in one script meanwhile. Here the other writer's
    newer totals land between the first writer's move and its commit: they must stay."""
    policy = SplitPolicy(max_members=1000, max_writes_per_s=1e9)
    one = ShardedRedisRankIndex.from_urls(shards, policy=policy)
    two = ShardedRedisRankIndex.from_urls(shards, policy=policy)
    one.single_bucket_path = False
    two.single_bucket_path = other_path == "single_bucket"
    reference = MemoryRankIndex()
    b = board()
    try:
        first = totals(b, 20)
        await one.apply(b, first)
        reference.apply_now(b, first)
        older, newer = totals(b, 20, seed=7, version=2), totals(b, 20, seed=8, version=3)
        scripts = one._commit

        class AfterTheOther:
            def __init__(self, script: Any) -> None:
                self.script = script

            async def __call__(self, **kwargs: Any) -> Any:
                await two.apply(b, newer)  # between one's begin (alone) and its commit
                return await self.script(**kwargs)

        one._commit = [AfterTheOther(s) for s in scripts]
        await one.apply(b, older)
        one._commit = scripts
        reference.apply_now(b, newer)
        assert one.commits_overtaken == 20  # every user's older total refused at the commit
        await same_answers(one, reference, b, 20)
        assert sum(x.members for x in await one.buckets(b)) == 20
    finally:
        await one.close()
        await two.close()


async def test_a_writer_counts_the_buckets_only_when_its_additions_may_call_for_a_split(
    shards: list[str],
) -> None:
    """After a batch, a writer counts every segment (for a split) only if the last count plus
    what it added since may be over the threshold: batches well under it count nothing, and the
    batch that takes a bucket over it still splits it at once."""
    index = ShardedRedisRankIndex.from_urls(shards, policy=SplitPolicy(max_members=30, max_writes_per_s=float("inf")))
    index.single_bucket_path = False
    reference = MemoryRankIndex()
    b = board()
    counting = index._count
    counts = 0

    async def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal counts
        counts += 1
        return await counting(*args, **kwargs)

    index._count = counted  # type: ignore[method-assign]
    try:
        batches = [
            [Total(b.name, f"u{i}", i, 1, 0, LogPosition(0, i)) for i in range(first, first + 6)]
            for first in range(0, 36, 6)
        ]
        for batch in batches[:5]:  # 30 members: at the threshold, not over it
            await index.apply(b, batch)
            reference.apply_now(b, batch)
        assert counts == 1  # the first batch's count (no count known yet), then none
        assert len(await index.buckets(b)) == 1
        await index.apply(b, batches[5])  # 36: over
        reference.apply_now(b, batches[5])
        assert len(await index.buckets(b)) == 2
        await index.finish_moves(b)
        await same_answers(index, reference, b, 36)
    finally:
        await index.close()


async def test_a_shard_added_to_the_config_takes_a_fair_share(shards: list[str]) -> None:
    """Boards keep their home shard; buckets move to the new shard until it is even."""
    policy = SplitPolicy(max_members=10, max_writes_per_s=1e9)
    two = ShardedRedisRankIndex.from_urls(shards[:2], policy=policy)
    reference = MemoryRankIndex()
    b = board()
    try:
        first = totals(b, 200)
        for i in range(0, 200, 25):
            await two.apply(b, first[i : i + 25])
        reference.apply_now(b, first)
        assert {x.shard for x in await two.buckets(b)} == {0, 1}
    finally:
        await two.close()
    three = ShardedRedisRankIndex.from_urls(shards, policy=policy)
    try:
        await same_answers(three, reference, b, 200)  # the home did not move
        more = totals(b, 20, seed=11, version=2)
        await three.apply(b, more)  # a write triggers the rebalancing
        reference.apply_now(b, more)
        while await three.rebalance(b):
            pass
        await three.finish_moves(b)
        assert not any(x.moving for x in await three.buckets(b))
        load = {s: sum(x.members for x in await three.buckets(b) if x.shard == s) for s in range(3)}
        assert load[2] > 0 and max(load.values()) - min(load.values()) <= 20, load
        await same_answers(three, reference, b, 200)
    finally:
        await three.close()


async def test_two_writers_racing_on_the_same_users_leave_no_strays(shards: list[str]) -> None:
    """A rebuild fills a board while the rank-worker writes it: both write the same users at
    once. The writer whose commit loses must take back the members it added, and neither may
    take out a member the other committed: every user is counted once after every round, not
    only in the end. (The general path: a one-bucket board's single script leaves no window
    between move and commit.)"""
    policy = SplitPolicy(max_members=16, max_writes_per_s=1e9)
    one = ShardedRedisRankIndex.from_urls(shards, policy=policy)
    two = ShardedRedisRankIndex.from_urls(shards, policy=policy)
    one.single_bucket_path = two.single_bucket_path = False
    reference = MemoryRankIndex()
    b = board()
    try:
        for version in range(1, 61):  # 12 rounds, more until the race has happened (timing)
            # Each round's two versions newer than the last round's both: with one writer a
            # round behind the other (v against v + 1), every round after the first found its
            # users already at v and applied nothing, and the race happened in round 1 or never.
            older, newer = (
                totals(b, 40, seed=version, version=2 * version),
                totals(b, 40, seed=99 + version, version=2 * version + 1),
            )
            await asyncio.gather(one.apply(b, older), two.apply(b, newer))
            reference.apply_now(b, older)
            reference.apply_now(b, newer)
            assert sum(x.members for x in await one.buckets(b)) == 40, f"round {version}"
            if version >= 12 and one.commits_overtaken + two.commits_overtaken > 0:
                break
        await one.finish_moves(b)
        assert one.commits_overtaken + two.commits_overtaken > 0  # the race did happen
        assert await one.count(b) == 40
        assert sum(x.members for x in await one.buckets(b)) == 40
        await same_answers(one, reference, b, 40)
    finally:
        await one.close()
        await two.close()


async def test_a_split_check_that_meets_a_trim_goes_on_with_the_new_map(
    shards: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer's split check counts the buckets just as another process's mover trims
    one and moves a bucket away: it must go on with the new map, not the old one. (The
    general path checks when its batches may have taken a bucket over the threshold, or its
    last count is old: here always; the single-bucket one only when a split is due.)"""
    from podium.index.sharded import mover
    from podium.index.sharded.read_steps import Trimmed

    monkeypatch.setattr(mover, "RECOUNT_EVERY_S", 0.0)

    index = ShardedRedisRankIndex.from_urls(
        shards, policy=SplitPolicy(max_members=1000, max_writes_per_s=1e9), background_mover=False
    )
    index.single_bucket_path = False
    other = ShardedRedisRankIndex.from_urls(shards, background_mover=False)
    b = board()
    try:
        await index.apply(b, totals(b, 20))
        original = ShardedRedisRankIndex._count
        met = []

        async def count_meets_a_trim(self: Any, board_name: str, map_: Any, wanted: Any = None) -> Any:
            if self is index and not met:
                met.append(True)
                [only] = await other.buckets(b)
                assert await other.move_bucket(b, only.id, (only.shard + 1) % 3)  # bucket 0 leaves the map
                raise Trimmed
            return await original(self, board_name, map_, wanted)

        monkeypatch.setattr(ShardedRedisRankIndex, "_count", count_meets_a_trim)
        assert len(await index.apply(b, totals(b, 20, seed=2, version=2))) == 20
        assert met and await index.count(b) == 20
    finally:
        await index.close()
        await other.close()


async def test_a_mover_that_fails_unexpectedly_tries_again(shards: list[str]) -> None:
    index = ShardedRedisRankIndex.from_urls(shards)
    steps = []

    async def fail_once(board_name: str) -> bool:
        steps.append(board_name)
        if len(steps) == 1:
            raise RuntimeError("a bug")
        return False

    index._settle_step = fail_once  # type: ignore[method-assign]
    try:
        index._start_mover("b")
        await asyncio.wait_for(index._movers["b"], 5)
        assert steps == ["b", "b"]
    finally:
        await index.close()


async def test_dropping_a_board_stops_its_mover_at_once(shards: list[str]) -> None:
    """A board deleted while its buckets are in transit: the drop cancels the mover and
    waits for it, so the mover must end at the cancel, not carry the board to its end
    first (a warm-up's board delete once waited past its client's 60 s for that)."""
    index = ShardedRedisRankIndex.from_urls(shards, policy=SplitPolicy(max_members=10, max_writes_per_s=1e9))
    b = board()
    try:
        for chunk in range(0, 2000, 200):
            await index.apply(b, totals(b, 2000)[chunk : chunk + 200])
        assert b.name in index._movers and not index._movers[b.name].done()
        await asyncio.sleep(random.random() * 0.3)
        began = asyncio.get_running_loop().time()
        await asyncio.wait_for(index.drop(b), 10)
        assert asyncio.get_running_loop().time() - began < 2.0
        assert b.name not in index._movers and await index.count(b) == 0
    finally:
        await index.close()
