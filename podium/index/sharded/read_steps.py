"""The sharded index's rank and page reads, in as few script calls as the board allows.

The reader keeps each board's map from its last read (`Maps`), and the segments' counts
it last took with the board's change number then (`names.board_changes_key`). A read
sends the map's epoch and that number to the home shard, whose script answers only if
the map is still the current one (else it returns the new one, and the read starts over:
once per map change), and recounts its sets only if the counts kept are no longer good.

Kept counts are good while the map, the change number and the board's quiet hold: a
batch raises the number before it moves a member and holds a lease until it commits; a
mover's batch or a repair holds the board's lock, and a mover's changes come with a new
map. Counts are kept only when taken after a check that found the board quiet: a batch
begun after that check raised the number, so they are never used.

  rank  = the home shard: the user's state and its place if its segment is there (with
          the home shard's counts, if the kept ones are not good); then one script on the
          shard of the user's segment, if another (good counts), or on every other shard.
          A board on one shard: one call.
  page  = the home shard's check (and counts), the other shards' counts if the kept ones
          are not good, then the slices. A map of one segment on the home shard: one
          MULTI (the map, whether users have details, the slice), checked against the map.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from podium.domain.boards import Board, Order
from podium.domain.buckets import BucketMap, Segment
from podium.domain.ordering import SortKey, subscore_of
from podium.index.base import Entry
from podium.index.redis import HIDDEN, State, key_from_member, zscore
from podium.index.resp import Packed, ScriptCall, join, pack
from podium.index.script_runner import ScriptRunner
from podium.index.sharded.scripts import script
from podium.plumbing import names


class Trimmed(Exception):
    """The mover took members out of a set after this reader read the map."""


def bound(map_: BucketMap, key: SortKey | None) -> list[str | int]:
    """A range end as two script arguments (score, member); '' for an open end."""
    return ["", ""] if key is None else [key[0], f"{key[1]:0{map_.tie_width}x}:{key[2]}"]


def segments_counted(
    board: str, map_: BucketMap, segments: Sequence[Segment], which: Sequence[int]
) -> tuple[list[str], list[str | int]]:
    """The keys and the leading arguments of a counting script (`counts`, `counts_and_places`)
    over these segments of `map_` on one shard: each segment's set and trim mark, the map's
    epoch, then each segment's range (`bound`, four arguments a segment). The scripts check
    the epoch against the trim marks: a set the mover trimmed since `map_` fails the count."""
    keys: list[str] = []
    args: list[str | int] = [map_.epoch]
    for i in which:
        seg = segments[i]
        keys += [names.bucket_key(board, seg.set_id), names.bucket_trim_key(board, seg.set_id)]
        args += [*bound(map_, seg.low), *bound(map_, seg.high)]
    return keys, args


@dataclass(frozen=True, slots=True)
class ShardPart:
    """A shard's segments of a map: their numbers, sets, trim marks and ranges as arguments."""

    numbers: list[int]
    sets: list[str]
    trims: list[str]
    ranges: list[str | int]  # 4 a segment


@dataclass(frozen=True, slots=True)
class Plan:
    """A board's map, cut into what each shard's scripts are sent (built once per map), with
    the parts of the reads' script calls that hold while the map does, packed (`resp`)."""

    map: BucketMap
    raw: bytes  # the map as stored
    home: int
    parts: dict[int, ShardPart]
    entry_keys: Packed  # entry_home's number of keys and keys
    counts_head: Packed  # counts_home's number of keys, keys and the map's epoch
    home_ranges: Packed  # the home shard's segments' ranges, the last arguments of both
    segment_heads: list[Packed]  # per segment: slice's and place_in's keys, epoch and bound
    numbers: dict[int, int]  # id of each of the map's segments → its number

    @classmethod
    def of(cls, board: str, raw: bytes, map_: BucketMap, home: int) -> Plan:
        parts: dict[int, ShardPart] = {}
        heads = []
        for i, seg in enumerate(map_.segments()):
            part = parts.setdefault(seg.shard, ShardPart([], [], [], []))
            part.numbers.append(i)
            part.sets.append(names.bucket_key(board, seg.set_id))
            part.trims.append(names.bucket_trim_key(board, seg.set_id))
            part.ranges.extend([*bound(map_, seg.low), *bound(map_, seg.high)])
            heads.append(pack([2, part.sets[-1], part.trims[-1], map_.epoch, *bound(map_, seg.low)]))
        here = parts.setdefault(home, ShardPart([], [], [], []))
        watched = [names.board_changes_key(board), names.writers_key(board), names.split_lock_key(board)]
        entry_keys = [names.users_key(board), names.bucket_map_key(board), *watched, *here.sets]
        counts_keys = [names.bucket_map_key(board), names.details_flag_key(board), *watched, *here.sets]
        return cls(
            map_,
            raw,
            home,
            parts,
            pack([len(entry_keys), *entry_keys]),
            pack([len(counts_keys), *counts_keys, map_.epoch]),
            pack(here.ranges),
            heads,
            {id(seg): i for i, seg in enumerate(map_.segments())},
        )

    @property
    def single(self) -> Segment | None:
        """The one segment of a board all in one set on its home shard, else None."""
        segments = self.map.segments()
        return segments[0] if len(segments) == 1 and segments[0].shard == self.home else None


@dataclass(frozen=True, slots=True)
class Kept:
    """Every segment's in-range count under a map, taken at a change number."""

    epoch: int
    changes: bytes
    counts: list[int]


class Maps:
    """Each board's map as last read, with its plan, and the counts kept under it."""

    def __init__(self) -> None:
        self._plans: dict[str, Plan] = {}
        self._kept: dict[str, Kept] = {}

    def plan(self, board: str) -> Plan | None:
        return self._plans.get(board)

    def keep(self, board: str, raw: bytes, map_: BucketMap, home: int) -> Plan:
        plan = self._plans.get(board)
        if plan is not None and plan.map is map_:
            return plan
        plan = Plan.of(board, raw, map_, home)
        self._plans[board] = plan
        return plan

    def kept(self, board: str, plan: Plan) -> Kept | None:
        """The counts kept under this plan's map, if any."""
        kept = self._kept.get(board)
        return kept if kept is not None and kept.epoch == plan.map.epoch else None

    def keep_counts(self, board: str, plan: Plan, changes: bytes, quiet: int, counts: list[int]) -> None:
        """Keep counts taken after a check of the board that found it quiet at `changes`."""
        if quiet == 1 and changes:
            self._kept[board] = Kept(plan.map.epoch, changes, counts)
        else:
            self._kept.pop(board, None)

    def forget(self, board: str) -> None:
        self._plans.pop(board, None)
        self._kept.pop(board, None)


def sign(board: Board) -> str:
    return "-1" if board.order is Order.DESC else "1"


async def run(runner: ScriptRunner, name: str, keys: list[str], args: Sequence[Any]) -> Any:
    lua = script(name)
    return await runner.run(lua.source, lua.sha, keys, list(args))


async def rank_of(
    runners: Sequence[ScriptRunner], maps: Maps, board: Board, user_id: str, plan: Plan
) -> tuple[Any, ...]:
    """One attempt at a user's rank under `plan`. Returns ('map', raw map) when the plan's
    map is not current; ('none',) when the user is not ranked; else ('rank', state, key,
    rank), rank 0 when the user's member is between a write's steps."""
    home, name = plan.home, board.name
    here = plan.parts[home]
    kept = maps.kept(name, plan)
    asked = pack([user_id, plan.map.epoch, sign(board), kept.changes if kept else ""])
    got = await runners[home].call(call_of("entry_home", plan.entry_keys, asked, plan.home_ranges))
    if len(got) == 1:
        return ("none",)
    if len(got) == 2:
        return ("map", got[1])
    state = State(got[0], user_id)
    changes, quiet, place = got[2], got[3], got[4]
    key = key_from_member(zscore(board.order, state.total), state.member)
    segment = plan.map.segments().index(plan.map.locate(key))
    phantom = "p" if state.flag == HIDDEN else ""
    if kept is not None and not got[5]:  # the kept counts are good (a shard may hold no segment)
        counts = kept.counts
        seg = plan.map.segments()[segment]
        if seg.shard != home:
            wanted = pack([key[0], state.member, phantom])
            found = await runners[seg.shard].call(call_of("place_in", plan.segment_heads[segment], wanted))
            if found is None:
                raise Trimmed
            place = found
    else:
        counts = [0] * len(plan.map.segments())
        for i, size in zip(here.numbers, got[6:], strict=True):
            counts[i] = int(size)
        others = [(shard, part) for shard, part in plan.parts.items() if shard != home and part.numbers]

        async def count_on(part: ShardPart, shard: int) -> Any:
            a = [plan.map.epoch, key[0], state.member, phantom, *part.ranges]
            return await run(runners[shard], "shard_counts", [*part.sets, *part.trims], a)

        for (_, part), found in zip(others, await asyncio.gather(*(count_on(p, s) for s, p in others)), strict=True):
            if found is None:
                raise Trimmed
            if found[0] != -1:
                place = found[0]
            for i, size in zip(part.numbers, found[1:], strict=True):
                counts[i] = int(size)
        maps.keep_counts(name, plan, changes, quiet, counts)
    if place < 0:
        return ("rank", state, key, 0)
    return ("rank", state, key, sum(counts[:segment]) + place + 1)


def counts_call(maps: Maps, board: str, plan: Plan) -> tuple[ScriptCall, Kept | None]:
    """The home shard's check of the map and of the counts kept (`counts_home`), and those
    counts, to hand `counts_from` with its reply."""
    kept = maps.kept(board, plan)
    return call_of("counts_home", plan.counts_head, pack([kept.changes if kept else ""]), plan.home_ranges), kept


async def counts_of(runners: Sequence[ScriptRunner], maps: Maps, board: str, plan: Plan) -> tuple[Any, ...]:
    """One attempt at every segment's in-range count under `plan`: `counts_call`, then
    `counts_from`."""
    call, kept = counts_call(maps, board, plan)
    return await counts_from(runners, maps, board, plan, kept, await runners[plan.home].call(call))


async def counts_from(
    runners: Sequence[ScriptRunner], maps: Maps, board: str, plan: Plan, kept: Kept | None, got: Any
) -> tuple[Any, ...]:
    """The counts from the home shard's check (`got`), and, unless the kept counts are good,
    from the other shards'. ('map', raw map) when the plan's map is not current, else
    ('counts', per segment counts, whether any user has details)."""
    home = plan.home
    here = plan.parts[home]
    if len(got) == 1:
        return ("map", got[0])
    flagged, changes, quiet = bool(got[1]), got[2], got[3]
    if kept is not None and not got[4]:  # the kept counts are good (a shard may hold no segment)
        return ("counts", kept.counts, flagged)
    counts = [0] * len(plan.map.segments())
    for i, size in zip(here.numbers, got[5:], strict=True):
        counts[i] = int(size)
    others = [(shard, part) for shard, part in plan.parts.items() if shard != home and part.numbers]

    async def count_on(part: ShardPart, shard: int) -> Any:
        a = [plan.map.epoch, "", "", "", *part.ranges]
        return await run(runners[shard], "shard_counts", [*part.sets, *part.trims], a)

    for (_, part), found in zip(others, await asyncio.gather(*(count_on(p, s) for s, p in others)), strict=True):
        if found is None:
            raise Trimmed
        for i, size in zip(part.numbers, found[1:], strict=True):
            counts[i] = int(size)
    maps.keep_counts(board, plan, changes, quiet, counts)
    return ("counts", counts, flagged)


def slice_call(plan: Plan, segment: Segment, start: int, count: int) -> ScriptCall:
    """A segment's members with scores at positions start … start + count − 1 (`slice`);
    its reply through `rows_of`."""
    return call_of("slice", plan.segment_heads[plan.numbers[id(segment)]], pack([start, start + count - 1]))


def rows_of(reply: Any) -> Any:
    """A slice's rows; Trimmed if the mover trimmed its set for a newer map."""
    if reply is None:
        raise Trimmed
    return reply


def call_of(name: str, *parts: Packed) -> ScriptCall:
    lua = script(name)
    return ScriptCall(lua.sha, lua.source, join(*parts))


async def page_one(runner: ScriptRunner, board: str, plan: Plan, start: int, count: int) -> tuple[Any, ...]:
    """A page of a board of one segment on its home shard, in one MULTI: ('map', raw map)
    when the plan's map is not current, else ('rows', members with scores, whether any user
    of the board has details). The segment is open at both ends: positions are ranks − 1."""
    seg = plan.map.segments()[0]
    raw, flagged, rows = await runner.transaction(
        [
            ("GET", names.bucket_map_key(board)),
            ("EXISTS", names.details_flag_key(board)),
            ("ZRANGE", names.bucket_key(board, seg.set_id), start, start + count - 1, "WITHSCORES"),
        ]
    )
    if raw != plan.raw:
        return ("map", raw)
    return ("rows", rows, bool(flagged))


def keys_of(rows: list[Any]) -> list[SortKey]:
    """The rank keys of a slice's members with scores: a script's flat member, score, …
    reply, or ZRANGE's pairs (RESP3). A page's hot loop: `key_from_member`, inlined."""
    pairs = rows if rows and isinstance(rows[0], list) else zip(rows[::2], rows[1::2], strict=True)
    keys = []
    for member, score in pairs:
        tie, _, user = member.decode().partition(":")
        keys.append((int(score), int(tie, 16), user))
    return keys


def page_entries(
    board: Board, runs: list[tuple[int, list[SortKey]]], shown: Mapping[str, tuple[str, str]]
) -> list[Entry]:
    """Entries of consecutive ranks: each run's keys from its first rank on."""
    sign = -1 if board.order is Order.DESC else 1
    subscores = board.subscore_order is not None
    none = ("", "")
    out = []
    for first, keys in runs:
        for rank, key in enumerate(keys, first):
            name, metadata = shown.get(key[2], none) if shown else none
            sub = subscore_of(board, key[1]) if subscores else 0
            out.append(Entry(rank, key[2], sign * key[0], sub, name, metadata, False, key))
    return out
