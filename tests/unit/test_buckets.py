"""Bucket maths against a plain sorted list: rank = counts before + position, pages walk buckets."""

from __future__ import annotations

import bisect

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from podium.domain.buckets import Bucket, BucketMap, SplitPolicy, least_loaded, rebalancing_move, split_point
from podium.domain.ordering import SortKey

KEYS = st.tuples(st.integers(-3, 3), st.integers(0, 3), st.sampled_from("abcdefgh"))


def distribute(map_: BucketMap, keys: list[SortKey]) -> dict[int, list[SortKey]]:
    members: dict[int, list[SortKey]] = {b.id: [] for b in map_.buckets}
    for k in keys:
        members[map_.locate(k).id].append(k)
    return members


@settings(max_examples=300, deadline=None)
@given(st.lists(KEYS, unique=True, max_size=40), st.lists(st.integers(0, 100), max_size=6), st.data())
def test_ranks_and_pages_equal_a_sorted_list(keys: list[SortKey], splits: list[int], data: st.DataObject) -> None:
    keys = sorted(keys)
    map_ = BucketMap.single(shard=0)
    for choice in splits:  # split some bucket at its median, onto some shard
        members = distribute(map_, keys)
        splittable = [b for b in map_.buckets if len(members[b.id]) >= 2]
        if not splittable:
            break
        bucket = splittable[choice % len(splittable)]
        map_, new = map_.split(bucket, split_point(sorted(members[bucket.id])), shard=choice % 3)
        assert new.lower is not None and map_.locate(new.lower) == new
    members = {i: sorted(ks) for i, ks in distribute(map_, keys).items()}
    counts = {i: len(ks) for i, ks in members.items()}
    assert sum(counts.values()) == len(keys)
    for rank, key in enumerate(keys, start=1):
        bucket = map_.locate(key)
        assert map_.rank(counts, bucket, members[bucket.id].index(key)) == rank
    first = data.draw(st.integers(1, len(keys) + 2))
    count = data.draw(st.integers(0, 12))
    page = [members[s.bucket.id][s.start + i] for s in map_.page(counts, first, count) for i in range(s.count)]
    assert page == keys[first - 1 : first - 1 + count]


def test_buckets_are_ordered_and_contiguous() -> None:
    map_ = BucketMap.single(shard=0)
    map_, b1 = map_.split(map_.buckets[0], (0, 0, "m"), shard=1)
    map_, b2 = map_.split(map_.buckets[0], (-5, 0, "a"), shard=2)
    assert [b.id for b in map_.buckets] == [0, b2.id, b1.id]
    assert map_.locate((-9, 0, "z")).id == 0
    assert map_.locate((-5, 0, "a")).id == b2.id  # a lower bound is inclusive
    assert map_.locate((0, 0, "l")).id == b2.id
    assert map_.locate((0, 0, "m")).id == b1.id
    assert map_.epoch == 2
    assert BucketMap.from_json(map_.to_json()) == map_


def test_a_split_point_must_fall_inside_the_bucket() -> None:
    map_, _ = BucketMap.single(0).split(Bucket(0, None, 0), (5, 0, "a"), shard=0)
    with pytest.raises(ValueError):
        map_.split(map_.buckets[1], (1, 0, "a"), shard=0)
    with pytest.raises(ValueError):
        map_.split(map_.buckets[0], (5, 0, "a"), shard=0)


def test_split_point_is_the_median_and_needs_two_members() -> None:
    assert split_point([(1, 0, "a"), (2, 0, "b"), (3, 0, "c")]) == (2, 0, "b")
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
        map_, _ = map_.split(map_.locate(at), at, shard=0)
    lowers = [b.lower for b in map_.buckets[1:]]
    for key in [(-1, 0, "a"), (0, 0, "c"), (0, 0, "e"), (1, 0, "a"), (9, 9, "z")]:
        assert map_.buckets.index(map_.locate(key)) == bisect.bisect_right(lowers, key)


def test_move_replaces_a_bucket_on_another_shard() -> None:
    map_, b1 = BucketMap.single(0).split(Bucket(0, None, 0), (5, 0, "a"), shard=0)
    moved, new = map_.move(b1, shard=2)
    assert (new.lower, new.shard) == (b1.lower, 2) and new.id not in {b.id for b in map_.buckets}
    assert [b.id for b in moved.buckets] == [0, new.id] and moved.epoch == map_.epoch + 1
    assert moved.locate((7, 0, "z")) == new


def test_rebalancing_moves_buckets_to_a_new_empty_shard_until_even() -> None:
    map_ = BucketMap.single(0)
    for at in [(i, 0, "m") for i in range(1, 8)]:
        map_, _ = map_.split(map_.locate(at), at, shard=map_.buckets[-1].shard ^ 1)  # shards 0 and 1 only
    counts = {b.id: 10 for b in map_.buckets}
    moves = 0
    while (step := rebalancing_move(map_, counts, shards=3)) is not None:
        bucket, shard = step
        map_, new = map_.move(bucket, shard)
        counts[new.id] = counts.pop(bucket.id)
        moves += 1
    load = {s: sum(counts[b.id] for b in map_.buckets if b.shard == s) for s in range(3)}
    assert moves >= 2 and max(load.values()) - min(load.values()) <= 10, load
