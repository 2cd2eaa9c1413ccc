"""A hypothesis state machine against the sharded index and the plain reference:
random writes, removals, splits, whole-bucket moves and splits left half done (the
map swapped, the copies not yet trimmed), with every rank, page and window checked
after each step."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from podium import names
from podium.domain.boards import Board, Order
from podium.domain.buckets import SplitPolicy
from podium.domain.totals import LogPosition, Total
from podium.index.memory import MemoryRankIndex
from podium.index.sharded import ShardedRedisRankIndex

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
        self.index = ShardedRedisRankIndex.from_urls(_urls, policy=policy)
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

    @rule(choice=st.integers(0, 50))
    def split_left_half_done(self, choice: int) -> None:
        """Split, then put the copied members back into the old bucket: the state between
        the map swap and the trim, as a crash would leave it."""
        bucket = self.pick(choice)
        if bucket is None or not self.run(self.index.split(self.board, bucket.id)):
            return
        after = self.run(self.index.buckets(self.board))
        new = max(after, key=lambda b: b.id)
        source = self.index._shards[bucket.shard]
        dest = self.index._shards[new.shard]

        async def leave_copies() -> None:
            rows = await dest.zrange(names.bucket_key(self.board.name, new.id), 0, -1, withscores=True)
            if rows:
                await source.zadd(names.bucket_key(self.board.name, bucket.id), dict(rows))

        self.run(leave_copies())

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
    max_examples=25, stateful_step_count=20, deadline=None, suppress_health_check=list(HealthCheck)
)
TestShardedIndexMachine = ShardedIndexMachine.TestCase
