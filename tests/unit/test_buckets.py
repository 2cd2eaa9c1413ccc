"""Bucket maths against a plain sorted list: rank = counts before + position, pages walk
segments, and every step of a transit (split, move, advance, settle) keeps each key in
exactly one segment, in rank order."""

from __future__ import annotations

import bisect
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podium.domain.buckets import (
    Bucket,
    BucketMap,
    SplitPolicy,
    least_loaded,
    rebalancing_move,
    shard_loads,
    split_point,
    split_position,
)
from podium.domain.ordering import SortKey

KEYS = st.tuples(st.integers(-3, 3), st.integers(0, 3), st.sampled_from("abcdefgh"))


def by_segment(map_: BucketMap, keys: list[SortKey]) -> list[list[SortKey]]:
    """Each segment's members, in order, as the sharded index would store them."""
    segments = map_.segments()
    members: list[list[SortKey]] = [[] for _ in segments]
    for k in sorted(keys):
        members[segments.index(map_.locate(k))].append(k)
    return members


def step(map_: BucketMap, keys: list[SortKey], choice: int) -> BucketMap:
    """One random change of the map: split, move, advance a mover or settle."""
    members = {b.id: [k for k in sorted(keys) if map_.locate(k).bucket.id == b.id] for b in map_.buckets}
    moving = map_.in_transit()
    if moving and choice % 2:
        bucket = moving[choice % len(moving)]
        source = [k for k in members[bucket.id] if map_.locate(k).set_id != bucket.id]
        if not source:
            return map_.settle(bucket)
        return map_.advance(bucket, source[-(choice % 3 + 1) :][0])  # move the top 1–3 members
    settled = [b for b in map_.buckets if map_.settled(b)]
    if not settled:
        return map_
    bucket = settled[choice % len(settled)]
    if choice % 3 == 0:
        return map_.move(bucket, shard=choice % 3)[0]
    if len(members[bucket.id]) < 2:
        return map_
    return map_.split(bucket, split_point(members[bucket.id]), shard=choice % 3)[0]


@settings(max_examples=300, deadline=None)
@given(st.lists(KEYS, unique=True, max_size=40), st.lists(st.integers(0, 100), max_size=12), st.data())
def test_ranks_and_pages_equal_a_sorted_list(keys: list[SortKey], steps: list[int], data: st.DataObject) -> None:
    keys = sorted(keys)
    map_ = BucketMap.single(shard=0)
    for choice in steps:
        map_ = step(map_, keys, choice)
        segments = map_.segments()
        lows = [s.low for s in segments]
        assert lows[0] is None and all(s.high == t.low for s, t in itertools.pairwise(segments))
        assert segments[-1].high is None
    members = by_segment(map_, keys)
    counts = [len(m) for m in members]
    assert sum(counts) == len(keys)
    segments = map_.segments()
    for rank, key in enumerate(keys, start=1):
        i = segments.index(map_.locate(key))
        assert map_.rank(counts, i, members[i].index(key)) == rank
    first = data.draw(st.integers(1, len(keys) + 2))
    count = data.draw(st.integers(0, 12))
    page = [
        members[segments.index(s.segment)][s.start + i] for s in map_.page(counts, first, count) for i in range(s.count)
    ]
    assert page == keys[first - 1 : first - 1 + count]
    assert sum(map_.bucket_members(counts).values()) == len(keys)
    assert BucketMap.from_json(map_.to_json()) == map_


def test_a_split_starts_a_transit_that_the_cursor_walks_down() -> None:
    map_, new = BucketMap.single(0).split(Bucket(0, None, 0), (5, 0, "m"), shard=1)
    # Nothing moved yet: the new bucket's keys are still read from bucket 0's set.
    assert [(s.bucket.id, s.set_id, s.shard) for s in map_.segments()] == [(0, 0, 0), (new.id, 0, 0)]
    map_ = map_.advance(map_.buckets[1], (7, 0, "a"))
    assert [(s.set_id, s.low, s.high) for s in map_.segments()] == [
        (0, None, (5, 0, "m")),
        (0, (5, 0, "m"), (7, 0, "a")),
        (new.id, (7, 0, "a"), None),
    ]
    assert map_.locate((6, 0, "z")).set_id == 0 and map_.locate((7, 0, "a")).set_id == new.id
    assert not map_.settled(map_.buckets[0]) and not map_.settled(map_.buckets[1])
    with pytest.raises(ValueError):
        map_.split(map_.buckets[0], (1, 0, "a"), shard=0)  # a source cannot split before its mover ends
    map_ = map_.settle(map_.buckets[1])
    assert [(s.set_id, s.shard) for s in map_.segments()] == [(0, 0), (new.id, 1)]
    assert map_.epoch == 3 and all(map_.settled(b) for b in map_.buckets)


def test_buckets_are_ordered_and_contiguous() -> None:
    map_ = BucketMap.single(shard=0)
    map_, b1 = map_.split(map_.buckets[0], (0, 0, "m"), shard=1)
    map_ = map_.settle(b1)
    map_, b2 = map_.split(map_.buckets[0], (-5, 0, "a"), shard=2)
    assert [b.id for b in map_.buckets] == [0, b2.id, b1.id]
    assert map_.locate((-9, 0, "z")).bucket.id == 0
    assert map_.locate((-5, 0, "a")).bucket.id == b2.id  # a lower bound is inclusive
    assert map_.locate((0, 0, "l")).bucket.id == b2.id
    assert map_.locate((0, 0, "m")).bucket.id == b1.id
    assert map_.epoch == 3
    assert BucketMap.from_json(map_.to_json()) == map_


def test_a_split_point_must_fall_inside_the_bucket() -> None:
    map_, new = BucketMap.single(0).split(Bucket(0, None, 0), (5, 0, "a"), shard=0)
    map_ = map_.settle(new)
    with pytest.raises(ValueError):
        map_.split(map_.buckets[1], (1, 0, "a"), shard=0)
    with pytest.raises(ValueError):
        map_.split(map_.buckets[0], (5, 0, "a"), shard=0)


def test_a_split_keeps_three_quarters_and_needs_two_members() -> None:
    keys = [(i, 0, f"u{i}") for i in range(8)]
    assert split_point(keys) == (6, 0, "u6")  # 6 stay, 2 go to the new bucket
    assert split_point(keys[:3]) == (2, 0, "u2")
    assert split_point(keys[:2]) == (1, 0, "u1")  # both parts keep one
    assert [split_position(n) for n in (2, 3, 4, 100, 10_001)] == [1, 2, 3, 75, 7500]
    with pytest.raises(ValueError):
        split_point([(1, 0, "a")])


def test_least_loaded_shard_and_split_policy() -> None:
    assert least_loaded({0: 10, 1: 3, 2: 3}) == 1
    policy = SplitPolicy(max_members=100, max_writes_per_s=50)
    assert policy.needs_split(101, 0) and policy.needs_split(10, 51)
    assert not policy.needs_split(100, 50) and not policy.needs_split(1, 1000)


def test_locate_agrees_with_bisect_on_lowers() -> None:
    map_ = BucketMap.single(0)
    for at in [(0, 0, "c"), (0, 0, "f"), (1, 0, "a")]:
        map_, new = map_.split(map_.locate(at).bucket, at, shard=0)
        map_ = map_.settle(new)
    lowers = [b.lower for b in map_.buckets[1:]]
    for key in [(-1, 0, "a"), (0, 0, "c"), (0, 0, "e"), (1, 0, "a"), (9, 9, "z")]:
        assert map_.buckets.index(map_.locate(key).bucket) == bisect.bisect_right(lowers, key)


def test_move_replaces_a_bucket_on_another_shard() -> None:
    map_, b1 = BucketMap.single(0).split(Bucket(0, None, 0), (5, 0, "a"), shard=0)
    map_ = map_.settle(b1)
    moved, new = map_.move(map_.buckets[1], shard=2)
    assert (new.lower, new.shard) == (b1.lower, 2) and new.id not in {b.id for b in map_.buckets}
    assert [b.id for b in moved.buckets] == [0, new.id] and moved.epoch == map_.epoch + 1
    assert moved.locate((7, 0, "z")).bucket == new and moved.locate((7, 0, "z")).set_id == b1.id


def test_rebalancing_moves_buckets_to_a_new_empty_shard_until_even() -> None:
    map_ = BucketMap.single(0)
    for at in [(i, 0, "m") for i in range(1, 8)]:
        map_, new = map_.split(map_.locate(at).bucket, at, shard=map_.buckets[-1].shard ^ 1)  # shards 0 and 1
        map_ = map_.settle(new)
    members = {b.id: 10 for b in map_.buckets}
    moves = 0
    while (found := rebalancing_move(map_, members, shards=3)) is not None:
        bucket, shard = found
        map_, new = map_.move(bucket, shard)
        members[new.id] = members.pop(bucket.id)
        moves += 1  # a bucket in transit already counts where it goes: no overshoot
    load = shard_loads(map_, members, 3)
    assert moves >= 2 and max(load.values()) - min(load.values()) <= 10, load
