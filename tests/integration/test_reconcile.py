"""The reconciler against drift planted behind the index's back — straight into Redis
for the sharded index, into the structures of the in-memory one — with a real SQLite
store as the truth: a wrong score, a missing user, a user in two buckets, a user the
store never had. It finds each, the report names each, the repair leaves every rank
equal to the store's."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest
import redis.asyncio as aioredis

from podium.domain.boards import Board, Order
from podium.domain.buckets import BucketMap, SplitPolicy
from podium.domain.ordering import total_key
from podium.domain.totals import LogPosition, Total
from podium.index.base import RankIndex
from podium.index.memory import MemoryRankIndex
from podium.index.redis import member, state
from podium.index.sharded import ShardedRedisRankIndex
from podium.plumbing import names
from podium.store.base import board_totals
from podium.store.sqlite import SqliteStore
from podium.usecases.board_settings import Boards
from podium.usecases.reconcile import Reconciler, ReconcileSettings

USERS = 60


async def seeded(store: SqliteStore, index: RankIndex, order: Order = Order.DESC) -> tuple[Board, list[Total]]:
    """A board of USERS users with distinct totals, the same in the store and the index."""
    b = Board(f"rec-{random.randrange(10**9)}", order)
    await store.create_board(b)
    totals = [Total(b.name, f"u{i:02}", 10 * i, 3, 1_000 + i, LogPosition(0, i)) for i in range(USERS)]
    await store.write_totals(totals, [])
    await index.apply(b, totals)
    return b, totals


async def ranks_equal_the_store(index: RankIndex, store: SqliteStore, b: Board) -> None:
    live = sorted((t for t in await board_totals(store, b.name) if t.ranked), key=lambda t: total_key(b, t))
    want = [(i + 1, t.user_id, t.total) for i, t in enumerate(live)]
    assert [(e.rank, e.user_id, e.score) for e in await index.page(b, 1, 1000)] == want
    assert await index.count(b) == len(want)
    for rank, user, score in want:
        entry = await index.entry(b, user)
        assert entry is not None and (entry.rank, entry.score) == (rank, score), user


def kinds(report: dict[str, Any]) -> dict[str, str]:
    [board] = report["boards"]
    return {d["user_id"]: d["kind"] for d in board["drift"]}


PLANTED = {"u59": "wrong_score", "u10": "missing", "u20": "missing", "u30": "duplicate", "ghost": "extra"}


async def check_finds_and_repairs(reconciler: Reconciler, index: RankIndex, store: SqliteStore, b: Board) -> None:
    dry = (await reconciler.run([b.name], dry_run=True)).to_json()
    assert kinds(dry) == PLANTED
    assert dry["totals"]["repaired"] == 0 and dry["totals"]["remaining"] == len(PLANTED)
    [board] = dry["boards"]
    assert board["check"] == "every_user" and board["store_users"] == USERS
    assert board["checked_users"] == USERS + 1  # the ghost too
    by_user = {d["user_id"]: d for d in board["drift"]}
    assert by_user["u59"]["store"] == {"score": 590, "version": 3}
    assert by_user["u59"]["index"]["score"] == 5_000
    assert by_user["u30"]["index"]["copies"] == 2
    assert by_user["ghost"]["store"] is None
    with pytest.raises(AssertionError):
        await ranks_equal_the_store(index, store, b)  # the dry run repaired nothing

    fixed = (await reconciler.run([b.name])).to_json()
    assert kinds(fixed) == PLANTED
    assert fixed["totals"] | {"by_kind": None} == {
        "boards": 1,
        "checked_users": USERS + 1,
        "checked_ranks": fixed["totals"]["checked_ranks"],
        "drift": 5,
        "repaired": 5,
        "remaining": 0,
        "by_kind": None,
    }
    assert fixed["totals"]["by_kind"] == {"missing": 2, "extra": 1, "wrong_score": 1, "duplicate": 1, "wrong_rank": 0}
    await ranks_equal_the_store(index, store, b)
    again = (await reconciler.run([b.name], dry_run=True)).to_json()
    assert again["totals"]["drift"] == 0
    # The repaired users go on from their versions: the next change applies as usual.
    await index.apply(b, [Total(b.name, "u30", 7, 4, 1, LogPosition(0, 99))])
    entry = await index.entry(b, "u30")
    assert entry is not None and entry.score == 7


async def test_sharded_index_drift_planted_in_redis(redis_shards: list[str], store: SqliteStore) -> None:
    index = ShardedRedisRankIndex.from_urls(redis_shards, policy=SplitPolicy(max_members=10, max_writes_per_s=1e9))
    shards = [aioredis.Redis.from_url(u) for u in redis_shards]
    try:
        b, totals = await seeded(store, index)
        await index.finish_moves(b)
        home = shards[index.home(b.name)]
        map_ = BucketMap.from_json(orjson.loads(await home.get(names.bucket_map_key(b.name))))
        assert len(map_.buckets) >= 4  # several buckets on several shards: a real sharded board
        by_user = {t.user_id: t for t in totals}

        def set_of(t: Total) -> tuple[aioredis.Redis, str]:
            seg = map_.locate(total_key(b, t))
            return shards[seg.shard], names.bucket_key(b.name, seg.set_id)

        # A wrong score: the best user's member and state say 5000 (still the top bucket's).
        top = by_user["u59"]
        client, key = set_of(top)
        await client.zadd(key, {member(b, top): -5_000})
        await home.hset(
            names.users_key(b.name), "u59", state(b, Total(b.name, "u59", 5_000, 3, 1_059, LogPosition(0, 59)))
        )
        # Missing: one user's member and state gone; another's member only.
        for user in ("u10", "u20"):
            client, key = set_of(by_user[user])
            assert await client.zrem(key, member(b, by_user[user])) == 1
        await home.hdel(names.users_key(b.name), "u10")
        # In two buckets: u30 also in the set of another bucket, inside that bucket's range.
        dup = by_user["u30"]
        own = map_.locate(total_key(b, dup))
        other = next(s for s in map_.segments() if s.bucket.id != own.bucket.id)
        other_client, other_key = shards[other.shard], names.bucket_key(b.name, other.set_id)
        first, second = await other_client.zrange(other_key, 0, 1, withscores=True)
        stray_reached = int(first[0].decode()[:16], 16) + 1  # right after its first member, before its second
        assert first[1] < second[1]
        await other_client.zadd(other_key, {f"{stray_reached:016x}:u30": first[1]})
        # A user the store never had.
        ghost = Total(b.name, "ghost", 45, 1, 5, LogPosition(0, 1))
        client, key = set_of(ghost)
        await client.zadd(key, {member(b, ghost): -45})
        await home.hset(names.users_key(b.name), "ghost", state(b, ghost))

        reconciler = Reconciler(store, Boards(store), index, ReconcileSettings(settle_s=0))
        await check_finds_and_repairs(reconciler, index, store, b)
        # No member of the repaired users is left anywhere but where the map reads it.
        for user in PLANTED:
            found = 0
            for seg in map_.segments():
                members = await shards[seg.shard].zrange(names.bucket_key(b.name, seg.set_id), 0, -1)
                found += sum(1 for m in members if m.decode()[17:] == user)
            assert found == (0 if user == "ghost" else 1), user
    finally:
        await index.close()
        for s in shards:
            await s.aclose()


async def test_memory_index_drift_planted_in_its_structures(store: SqliteStore) -> None:
    index = MemoryRankIndex()
    b, totals = await seeded(store, index)
    by_user = {t.user_id: t for t in totals}
    planted = index._boards[b.name]  # the index's own structures, behind its back
    wrong = Total(b.name, "u59", 5_000, 3, 1_059, LogPosition(0, 59))
    planted.ranked.remove(planted.key(by_user["u59"]))
    planted.ranked.add(planted.key(wrong))
    planted.totals["u59"] = wrong
    planted.ranked.remove(planted.key(by_user["u10"]))
    del planted.totals["u10"]
    planted.ranked.remove(planted.key(by_user["u20"]))  # its total still held: it answers, no page lists it
    planted.ranked.add((-by_user["u05"].total, 1, "u30"))  # u30 a second time, among the low scores
    ghost = Total(b.name, "ghost", 45, 1, 5, LogPosition(0, 1))
    planted.ranked.add(planted.key(ghost))
    planted.totals["ghost"] = ghost
    reconciler = Reconciler(store, Boards(store), index, ReconcileSettings(settle_s=0))
    await check_finds_and_repairs(reconciler, index, store, b)


async def test_a_big_board_is_checked_at_its_top_bottom_and_a_sample(store: SqliteStore) -> None:
    index = MemoryRankIndex()
    b, totals = await seeded(store, index, Order.ASC)
    reconciler = Reconciler(
        store, Boards(store), index, ReconcileSettings(full_check_users=20, edge_users=5, sample_users=10, settle_s=0)
    )
    clean = (await reconciler.run([b.name])).to_json()
    [board] = clean["boards"]
    assert board["check"] == "sampled" and board["drift"] == []
    assert board["checked_ranks"] == 10 and 10 <= board["checked_users"] <= 20
    # The bottom user of an ascending board (the highest total) put at the top, its score right.
    planted = index._boards[b.name]
    last = totals[-1]
    planted.ranked.remove(planted.key(last))
    planted.ranked.add((-1, 0, last.user_id))
    found = (await reconciler.run([b.name])).to_json()
    assert kinds(found) == {last.user_id: "wrong_rank"}
    assert found["boards"][0]["check"] == "sampled" and found["totals"]["remaining"] == 0
    await ranks_equal_the_store(index, store, b)
    # A count that differs sends a big board to the full check: only it finds the extra.
    planted.ranked.add((5, 0, "ghost"))
    planted.totals["ghost"] = Total(b.name, "ghost", 5, 1, 0, LogPosition(0, 1))
    full = (await reconciler.run([b.name])).to_json()
    assert full["boards"][0]["check"] == "every_user" and kinds(full) == {"ghost": "extra"}
    await ranks_equal_the_store(index, store, b)
