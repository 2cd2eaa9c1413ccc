"""Score buckets: a board split by rank key into ranges, each kept on one shard.

A board's rank order (total in the board's order, then who reached it first,
then user id — `ordering.sort_key`) is cut into contiguous ranges. Bucket i
holds every user whose key k has lower(i) ≤ k < lower(i + 1); the first
bucket is open below, the last open above. Cutting at full rank keys, not just
scores, lets any bucket be split in two halves — even one where every user has
the same score.

A bucket just split off, or moved to another shard, starts *in transit*: its
members still sit in the sorted set they came from (its `Transit.source`), and
a mover carries them over a batch at a time, from the top of the range down.
The transit's cursor cuts the bucket's range in two: keys below the cursor are
read from the old set, keys at or above it from the bucket's own. So at every
moment each key of the board has exactly one set it is read from and written
to — a `Segment` — and the board in rank order is the concatenation of its
segments. A settled bucket is one segment; a bucket in transit, two.

Then, with each segment's member count:
  rank(user)  = Σ counts of the segments before the user's segment
                + the user's position inside its segment + 1
  page(a, n)  = walk the segments from the one holding rank a, taking slices,
and neither needs to look at any segment other than the ones it reads from.

Pure: no I/O. The sharded rank index keeps the map in Redis and counts the
segments from the sorted sets themselves.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from podium.domain.ordering import SortKey


@dataclass(frozen=True, slots=True)
class Transit:
    """Keys of the bucket below `cursor` are still in set `source` on `source_shard`
    (cursor None: none has moved yet); the rest are in the bucket's own set."""

    source: int
    source_shard: int
    cursor: SortKey | None = None


@dataclass(frozen=True, slots=True)
class Bucket:
    id: int
    lower: SortKey | None  # inclusive; None: open below (only the first bucket)
    shard: int
    transit: Transit | None = None


@dataclass(frozen=True, slots=True)
class Segment:
    """The keys [low, high) of `bucket`, read from sorted set `set_id` on `shard`
    (None: open end)."""

    bucket: Bucket
    set_id: int
    shard: int
    low: SortKey | None
    high: SortKey | None


@dataclass(frozen=True, slots=True)
class Slice:
    """Ranks `first_rank` … of a page come from `segment`, from its local position `start`."""

    segment: Segment
    start: int  # 0-based position inside the segment
    count: int
    first_rank: int


@dataclass(frozen=True, slots=True)
class BucketMap:
    buckets: tuple[Bucket, ...]
    epoch: int = 0  # grows with every change of the map
    next_id: int = 1
    # Hex digits of the tie-break in the board's members (`ordering.tie_width`): kept with
    # the map so that a mover, which knows a board only by name, can write range bounds.
    tie_width: int = 16
    # Computed once per map (maps are immutable, and every read walks them): see segments().
    _segments: tuple[Segment, ...] | None = field(default=None, init=False, repr=False, compare=False)
    _lows: list[SortKey] | None = field(default=None, init=False, repr=False, compare=False)

    @classmethod
    def single(cls, shard: int, tie_width: int = 16) -> BucketMap:
        return cls((Bucket(0, None, shard),), tie_width=tie_width)

    def upper(self, bucket: Bucket) -> SortKey | None:
        """The first key above `bucket` (None: it is the last)."""
        index = self.buckets.index(bucket)
        return self.buckets[index + 1].lower if index + 1 < len(self.buckets) else None

    def segments(self) -> tuple[Segment, ...]:
        """Every key range of the board with the set it lives in, in rank order."""
        if self._segments is None:
            object.__setattr__(self, "_segments", self._cut())
        assert self._segments is not None
        return self._segments

    def _cut(self) -> tuple[Segment, ...]:
        out: list[Segment] = []
        for b in self.buckets:
            high = self.upper(b)
            t = b.transit
            if t is None:
                out.append(Segment(b, b.id, b.shard, b.lower, high))
            elif t.cursor is None:
                out.append(Segment(b, t.source, t.source_shard, b.lower, high))
            else:
                out.append(Segment(b, t.source, t.source_shard, b.lower, t.cursor))
                out.append(Segment(b, b.id, b.shard, t.cursor, high))
        return tuple(out)

    def locate(self, key: SortKey) -> Segment:
        """The segment whose range holds `key`: where its member is written and read."""
        segments = self.segments()
        if self._lows is None:
            object.__setattr__(self, "_lows", [s.low for s in segments[1:]])  # all set: only the first is open
        return segments[bisect.bisect_right(self._lows, key)]  # type: ignore[arg-type]

    def in_transit(self) -> list[Bucket]:
        return [b for b in self.buckets if b.transit is not None]

    def settled(self, bucket: Bucket) -> bool:
        """Neither moving in nor still holding another bucket's members."""
        return bucket.transit is None and all(b.transit is None or b.transit.source != bucket.id for b in self.buckets)

    def rank(self, counts: Sequence[int], segment: int, position: int) -> int:
        """1-based rank of the member at 0-based `position` inside segment number `segment`."""
        return sum(counts[:segment]) + position + 1

    def page(self, counts: Sequence[int], first_rank: int, count: int) -> list[Slice]:
        """Which slice of which segments hold ranks first_rank … first_rank + count − 1."""
        slices: list[Slice] = []
        skipped = 0  # ranks in the segments before the current one
        want_from = max(first_rank, 1)
        remaining = count
        for segment, size in zip(self.segments(), counts, strict=True):
            if remaining <= 0:
                break
            if skipped + size >= want_from:
                start = want_from - skipped - 1
                take = min(size - start, remaining)
                slices.append(Slice(segment, start, take, want_from))
                want_from += take
                remaining -= take
            skipped += size
        return slices

    def bucket_members(self, counts: Sequence[int]) -> dict[int, int]:
        """Members per bucket id, from the per-segment counts."""
        members = dict.fromkeys((b.id for b in self.buckets), 0)
        for segment, size in zip(self.segments(), counts, strict=True):
            members[segment.bucket.id] += size
        return members

    def split(self, bucket: Bucket, at: SortKey, shard: int) -> tuple[BucketMap, Bucket]:
        """Split `bucket` at key `at`: it keeps the keys below `at`; a new bucket on
        `shard` takes `at` and above, in transit from the old bucket's set. Returns
        the new map and the new bucket."""
        self._check_settled(bucket)
        low, high = bucket.lower, self.upper(bucket)
        if (low is not None and at <= low) or (high is not None and at >= high):
            raise ValueError(f"split point {at} is outside bucket {bucket.id}")
        new = Bucket(self.next_id, at, shard, Transit(bucket.id, bucket.shard))
        index = self.buckets.index(bucket)
        buckets = (*self.buckets[: index + 1], new, *self.buckets[index + 1 :])
        return replace(self, buckets=buckets, epoch=self.epoch + 1, next_id=self.next_id + 1), new

    def move(self, bucket: Bucket, shard: int) -> tuple[BucketMap, Bucket]:
        """Place `bucket`'s range on `shard`: a new bucket (new id), in transit from
        the old one's set, replaces it."""
        self._check_settled(bucket)
        new = Bucket(self.next_id, bucket.lower, shard, Transit(bucket.id, bucket.shard))
        return self._replace(bucket, new, next_id=self.next_id + 1), new

    def advance(self, bucket: Bucket, cursor: SortKey) -> BucketMap:
        """The mover carried `bucket`'s keys from `cursor` up into its own set."""
        if bucket.transit is None:
            raise ValueError(f"bucket {bucket.id} is not in transit")
        return self._replace(bucket, replace(bucket, transit=replace(bucket.transit, cursor=cursor)))

    def settle(self, bucket: Bucket) -> BucketMap:
        """Every member of `bucket` is in its own set now."""
        return self._replace(bucket, replace(bucket, transit=None))

    def _replace(self, bucket: Bucket, new: Bucket, next_id: int | None = None) -> BucketMap:
        index = self.buckets.index(bucket)
        buckets = (*self.buckets[:index], new, *self.buckets[index + 1 :])
        return replace(self, buckets=buckets, epoch=self.epoch + 1, next_id=next_id or self.next_id)

    def _check_settled(self, bucket: Bucket) -> None:
        if not self.settled(bucket):
            raise ValueError(f"bucket {bucket.id} is in transit: its mover must finish first")

    def to_json(self) -> dict[str, object]:
        def bucket(b: Bucket) -> dict[str, object]:
            out: dict[str, object] = {"id": b.id, "lower": _key_json(b.lower), "shard": b.shard}
            if b.transit is not None:
                t = b.transit
                out["transit"] = {"source": t.source, "source_shard": t.source_shard, "cursor": _key_json(t.cursor)}
            return out

        return {
            "epoch": self.epoch,
            "next_id": self.next_id,
            "buckets": [bucket(b) for b in self.buckets],
            "tie_width": self.tie_width,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> BucketMap:
        raw = data["buckets"]
        assert isinstance(raw, list)

        def bucket(b: dict[str, object]) -> Bucket:
            t = b.get("transit")
            transit = None
            if isinstance(t, dict):
                transit = Transit(int(t["source"]), int(t["source_shard"]), _key(t["cursor"]))
            return Bucket(int(str(b["id"])), _key(b["lower"]), int(str(b["shard"])), transit)

        width = int(str(data.get("tie_width", 16)))
        return cls(tuple(bucket(b) for b in raw), int(str(data["epoch"])), int(str(data["next_id"])), width)


def _key_json(key: SortKey | None) -> list[object] | None:
    if key is None:
        return None
    # A tie-break with a subscore is wider than JSON integers go (64 bits): then a string.
    return [key[0], key[1] if key[1] < 2**63 else str(key[1]), key[2]]


def _key(raw: object) -> SortKey | None:
    if raw is None:
        return None
    assert isinstance(raw, list)
    return (int(raw[0]), int(raw[1]), str(raw[2]))


# The share of its members a split bucket keeps; the rest, from the top of its range (the
# split point and above), go to the new bucket and are copied by the mover. A quarter, not
# half: while a board grows every member is copied about once at a median split (0.93 a user
# over the bench's board, rebalancing included), ~0.5 a user at a quarter, for a few more
# buckets (19 against 16 for 100,000 users at 10,000 a bucket); the copies were a quarter of
# the rank shards' CPU a user (docs/benchmarks.md, "The rank shards' batches as rows").
SPLIT_KEEPS = 0.75


def split_position(members: int) -> int:
    """Where to split a bucket of `members` (at least two) members: the position, from 0 in
    the bucket's order, of the first member that goes to the new bucket. Both parts keep at
    least one."""
    if members < 2:
        raise ValueError("a bucket needs two members to be split")
    return min(members - 1, max(1, int(members * SPLIT_KEEPS)))


def split_point(keys: Sequence[SortKey]) -> SortKey:
    """Where to split a bucket whose members' keys are `keys` (sorted): the key at
    `split_position`."""
    return keys[split_position(len(keys))]


def rebalancing_move(map_: BucketMap, members: Mapping[int, int], shards: int) -> tuple[Bucket, int] | None:
    """One settled bucket to move from the fullest shard to the emptiest, if it is at most
    half the gap between them; None when the board is balanced enough. `members`: per
    bucket id.

    Half, not any bucket that narrows the gap: a move copies every member of the bucket, and
    a growing board's splits keep changing the loads. Moving whatever narrows the gap moved
    8 whole buckets while a board grew to 16 (about half its members copied again); the
    shards end within two of the fullest shard's smallest buckets of each other."""
    load = shard_loads(map_, members, shards)
    fullest = max(load, key=lambda s: (load[s], -s))
    emptiest = least_loaded(load)
    gap = load[fullest] - load[emptiest]
    candidates = [
        b for b in map_.buckets if b.shard == fullest and 0 < 2 * members.get(b.id, 0) <= gap and map_.settled(b)
    ]
    if not candidates:
        return None
    # The bucket that brings the two closest to even.
    best = min(candidates, key=lambda b: abs(gap - 2 * members.get(b.id, 0)))
    return best, emptiest


def shard_loads(map_: BucketMap, members: Mapping[int, int], shards: int) -> dict[int, int]:
    """How many of the board's members each shard holds, counting a bucket in
    transit where it is going. `members`: per bucket id."""
    load = dict.fromkeys(range(shards), 0)
    for b in map_.buckets:
        load[b.shard] += members.get(b.id, 0)
    return load


def least_loaded(shard_members: Mapping[int, int]) -> int:
    """The shard with the fewest members (the lowest id among equals)."""
    return min(shard_members, key=lambda shard: (shard_members[shard], shard))


@dataclass(frozen=True, slots=True)
class SplitPolicy:
    max_members: int = 100_000
    max_writes_per_s: float = 5_000.0

    @classmethod
    def never(cls) -> SplitPolicy:
        """A board that stays one bucket, one sorted set (a single Redis)."""
        return cls(max_members=2**62, max_writes_per_s=float("inf"))

    def needs_split(self, members: int, writes_per_s: float) -> bool:
        return members >= 2 and (members > self.max_members or writes_per_s > self.max_writes_per_s)
