"""A hypothesis state machine against the sharded index and the plain reference:
random writes, removals, splits, whole-bucket moves, mover batches (so queries run
while splits are half done), and mover batches cut short as a crash would leave them
(copied but the map not advanced; advanced but not trimmed), with every rank, page
and window checked after each step."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from podium.domain.boards import Board, Order
from podium.domain.buckets import SplitPolicy
from podium.domain.totals import LogPosition, Total
from podium.index.memory import MemoryRankIndex
from podium.index.redis import key_from_member
from podium.index.sharded import ShardedRedisRankIndex
from podium.index.sharded.read_steps import bound
from podium.plumbing import names

USERS = st.sampled_from([f"p{i}" for i in range(16)])
_urls: list[str] = []
_boards = itertools.count()


@pytest.fixture(scope="module", autouse=True)
def shard_urls(redis_shards: list[str]) -> Iterator[None]:
    _urls[:] = redis_shards
    yield
    _urls.clear()


class ShardedIndexMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        # Big thresholds: this machine decides when to split and move.
        policy = SplitPolicy(max_members=10**6, max_writes_per_s=1e12)
        self.index = ShardedRedisRankIndex.from_urls(_urls, policy=policy, move_batch=2, background_mover=False)
        self.reference = MemoryRankIndex()
        self.board = Board(f"machine{next(_boards)}-{random.randrange(10**9)}")
        self.versions: dict[str, int] = {}
        self.clock = 0

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.index.close())
        self.loop.close()

    @initialize(order=st.sampled_from(list(Order)))
    def choose_order(self, order: Order) -> None:
        self.board = Board(self.board.name, order)

    @rule(scores=st.lists(st.tuples(USERS, st.integers(-20, 20)), min_size=1, max_size=8))
    def write(self, scores: list[tuple[str, int]]) -> None:
        batch = []
        for user, score in scores:
            self.clock += 1
            self.versions[user] = self.versions.get(user, 0) + 1
            v = self.versions[user]
            batch.append(Total(self.board.name, user, score, v, self.clock % 7, LogPosition(0, v)))
        self.run(self.index.apply(self.board, batch))
        self.reference.apply_now(self.board, batch)

    @rule(user=USERS)
    def remove(self, user: str) -> None:
        self.versions[user] = self.versions.get(user, 0) + 1
        v = self.versions[user]
        gone = [Total(self.board.name, user, 0, v, 0, LogPosition(0, v), removed=True)]
        self.run(self.index.apply(self.board, gone))
        self.reference.apply_now(self.board, gone)

    def pick(self, choice: int) -> Any:
        buckets = self.run(self.index.buckets(self.board))
        return buckets[choice % len(buckets)] if buckets else None

    @rule(choice=st.integers(0, 50))
    def split(self, choice: int) -> None:
        bucket = self.pick(choice)
        if bucket is not None:
            self.run(self.index.split(self.board, bucket.id))

    @rule(choice=st.integers(0, 50), shard=st.integers(0, 2))
    def move(self, choice: int, shard: int) -> None:
        bucket = self.pick(choice)
        if bucket is not None:
            self.run(self.index.move_bucket(self.board, bucket.id, shard))

    @rule()
    def carry_a_batch(self) -> None:
        self.run(self.index.move_step(self.board.name))

    @rule(advance=st.booleans())
    def carry_cut_short(self, advance: bool) -> None:
        """A mover batch that died after copying (fences raised, the map not advanced), or
        after advancing the map (the batch not yet trimmed from the old set)."""
        index = self.index

        async def cut_short() -> None:
            map_ = await index._map(self.board.name)
            moving = map_.in_transit() if map_ is not None else []
            if map_ is None or not moving:
                return
            bucket = moving[0]
            assert bucket.transit is not None
            part = next(s for s in map_.segments() if s.bucket is bucket and s.set_id == bucket.transit.source)
            source_key = names.bucket_key(self.board.name, bucket.transit.source)
            args = [*bound(map_, part.low), *bound(map_, part.high), 2]
            flat = await index._tail[bucket.transit.source_shard](keys=[source_key], args=args)
            rows = dict(zip(flat[::2], (float(x) for x in flat[1::2]), strict=True))
            if not rows:
                return
            source = index._shards[bucket.transit.source_shard]
            await source.set(names.bucket_fence_key(self.board.name, bucket.transit.source), map_.epoch + 1)
            place_keys = [
                names.bucket_key(self.board.name, bucket.id),
                names.bucket_fence_key(self.board.name, bucket.id),
            ]
            place_args = [map_.epoch + 1, *args[:4], *itertools.chain.from_iterable(rows.items())]
            await index._place[bucket.shard](keys=place_keys, args=place_args)
            if advance:
                lowest = min(rows, key=lambda m: (rows[m], m))
                # Written as the mover did before it was cut short, without its lock's check.
                moved = map_.advance(bucket, key_from_member(rows[lowest], lowest))
                home = index._shards[index.home(self.board.name)]
                await home.set(names.bucket_map_key(self.board.name), orjson.dumps(moved.to_json()))

        self.run(cut_short())

    @invariant()
    def every_rank_page_and_window_equals_the_reference(self) -> None:
        async def check() -> None:
            want = [(e.rank, e.user_id, e.score) for e in await self.reference.page(self.board, 1, 100)]
            got = [(e.rank, e.user_id, e.score) for e in await self.index.page(self.board, 1, 100)]
            assert got == want
            assert await self.index.count(self.board) == len(want)
            for rank, user, score in want:
                entry = await self.index.entry(self.board, user)
                assert entry is not None and (entry.rank, entry.score) == (rank, score), user
            for first in range(1, len(want) + 1, 3):
                window = [(e.rank, e.user_id) for e in await self.index.page(self.board, first, 4)]
                assert window == [(r, u) for r, u, _ in want[first - 1 : first + 3]]
            gone = {u for u, v in self.versions.items()} - {u for _, u, _ in want}
            for user in gone:
                assert await self.index.entry(self.board, user) is None

        self.run(check())


ShardedIndexMachine.TestCase.settings = settings(
    max_examples=60,
    stateful_step_count=40,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
TestShardedIndexMachine = ShardedIndexMachine.TestCase
