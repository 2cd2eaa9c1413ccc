"""Score buckets: a board split by rank key into ranges, each kept on one shard.

A board's rank order (total in the board's order, then who reached it first,
then user id — `ordering.sort_key`) is cut into contiguous ranges. Bucket i
holds every user whose key k has lower(i) ≤ k < lower(i + 1); the first
bucket is open below, the last open above. Cutting at full rank keys, not just
scores, lets any bucket be split in two halves — even one where every user has
the same score.

Then, with each bucket's member count:
  rank(user)  = Σ counts of the buckets before the user's bucket
                + the user's position inside its bucket + 1
  page(a, n)  = walk the buckets from the one holding rank a, taking slices,
and neither needs to look at any bucket other than the ones it reads from.

Pure: no I/O. The sharded rank index keeps the map and the counts in Redis.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from podium.domain.ordering import SortKey


@dataclass(frozen=True, slots=True)
class Bucket:
    id: int
    lower: SortKey | None  # inclusive; None: open below (only the first bucket)
    shard: int


@dataclass(frozen=True, slots=True)
class Slice:
    """Ranks `first_rank` … of a page come from `bucket`, from its local position `start`."""

    bucket: Bucket
    start: int  # 0-based position inside the bucket
    count: int
    first_rank: int


@dataclass(frozen=True, slots=True)
class BucketMap:
    buckets: tuple[Bucket, ...]
    epoch: int = 0  # grows with every change of the map
    next_id: int = 1

    @classmethod
    def single(cls, shard: int) -> BucketMap:
        return cls((Bucket(0, None, shard),))

    def locate(self, key: SortKey) -> Bucket:
        """The bucket whose range holds `key`."""
        return self.buckets[self._index(key)]

    def _index(self, key: SortKey) -> int:
        lowers = [b.lower for b in self.buckets[1:]]  # all set: only the first is open
        return bisect.bisect_right(lowers, key)  # type: ignore[type-var]

    def before(self, bucket: Bucket) -> tuple[Bucket, ...]:
        return self.buckets[: self.buckets.index(bucket)]

    def rank(self, counts: Mapping[int, int], bucket: Bucket, position: int) -> int:
        """1-based rank of the member at 0-based `position` inside `bucket`."""
        return sum(counts.get(b.id, 0) for b in self.before(bucket)) + position + 1

    def page(self, counts: Mapping[int, int], first_rank: int, count: int) -> list[Slice]:
        """Which slice of which buckets hold ranks first_rank … first_rank + count − 1."""
        slices: list[Slice] = []
        skipped = 0  # ranks in the buckets before the current one
        want_from = max(first_rank, 1)
        remaining = count
        for bucket in self.buckets:
            if remaining <= 0:
                break
            size = counts.get(bucket.id, 0)
            if skipped + size >= want_from:
                start = want_from - skipped - 1
                take = min(size - start, remaining)
                slices.append(Slice(bucket, start, take, want_from))
                want_from += take
                remaining -= take
            skipped += size
        return slices

    def split(self, bucket: Bucket, at: SortKey, shard: int) -> tuple[BucketMap, Bucket]:
        """Split `bucket` at key `at`: it keeps the keys below `at`; a new bucket on
        `shard` takes `at` and above. Returns the new map and the new bucket."""
        index = self.buckets.index(bucket)
        low = bucket.lower
        high = self.buckets[index + 1].lower if index + 1 < len(self.buckets) else None
        if (low is not None and at <= low) or (high is not None and at >= high):
            raise ValueError(f"split point {at} is outside bucket {bucket.id}")
        new = Bucket(self.next_id, at, shard)
        buckets = (*self.buckets[: index + 1], new, *self.buckets[index + 1 :])
        return replace(self, buckets=buckets, epoch=self.epoch + 1, next_id=self.next_id + 1), new

    def move(self, bucket: Bucket, shard: int) -> tuple[BucketMap, Bucket]:
        """Place `bucket`'s range on `shard`: a new bucket (new id) replaces it."""
        index = self.buckets.index(bucket)
        new = Bucket(self.next_id, bucket.lower, shard)
        buckets = (*self.buckets[:index], new, *self.buckets[index + 1 :])
        return replace(self, buckets=buckets, epoch=self.epoch + 1, next_id=self.next_id + 1), new

    def to_json(self) -> dict[str, object]:
        return {
            "epoch": self.epoch,
            "next_id": self.next_id,
            "buckets": [
                {"id": b.id, "lower": list(b.lower) if b.lower is not None else None, "shard": b.shard}
                for b in self.buckets
            ],
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> BucketMap:
        raw = data["buckets"]
        assert isinstance(raw, list)
        buckets = tuple(
            Bucket(int(b["id"]), tuple(b["lower"]) if b["lower"] is not None else None, int(b["shard"])) for b in raw
        )
        return cls(buckets, int(str(data["epoch"])), int(str(data["next_id"])))


def split_point(keys: Sequence[SortKey]) -> SortKey:
    """Where to split a bucket whose members' keys are `keys` (sorted): the median,
    so both halves get as many members."""
    if len(keys) < 2:
        raise ValueError("a bucket needs two members to be split")
    return keys[len(keys) // 2]


def rebalancing_move(map_: BucketMap, counts: Mapping[int, int], shards: int) -> tuple[Bucket, int] | None:
    """One bucket to move from the fullest shard to the emptiest, if that narrows the
    gap between them; None when the board is as balanced as whole buckets allow."""
    load = shard_loads(map_, counts, shards)
    fullest = max(load, key=lambda s: (load[s], -s))
    emptiest = least_loaded(load)
    gap = load[fullest] - load[emptiest]
    candidates = [b for b in map_.buckets if b.shard == fullest and 0 < counts.get(b.id, 0) < gap]
    if not candidates:
        return None
    # The bucket that brings the two closest to even.
    best = min(candidates, key=lambda b: abs(gap - 2 * counts.get(b.id, 0)))
    return best, emptiest


def shard_loads(map_: BucketMap, counts: Mapping[int, int], shards: int) -> dict[int, int]:
    """How many of the board's members each shard holds."""
    load = dict.fromkeys(range(shards), 0)
    for b in map_.buckets:
        load[b.shard] += counts.get(b.id, 0)
    return load


def least_loaded(shard_members: Mapping[int, int]) -> int:
    """The shard with the fewest members (the lowest id among equals)."""
    return min(shard_members, key=lambda shard: (shard_members[shard], shard))


@dataclass(frozen=True, slots=True)
class SplitPolicy:
    max_members: int = 100_000
    max_writes_per_s: float = 5_000.0

    def needs_split(self, members: int, writes_per_s: float) -> bool:
        return members >= 2 and (members > self.max_members or writes_per_s > self.max_writes_per_s)
