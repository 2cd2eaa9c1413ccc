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
from podium.index.script_runner import ScriptRunner
from podium.index.sharded.scripts import script
from podium.plumbing import names


class Trimmed(Exception):
    """The mover took members out of a set after this reader read the map."""


def bound(map_: BucketMap, key: SortKey | None) -> list[str | int]:
    """A range end as two script arguments (score, member); '' for an open end."""
    return ["", ""] if key is None else [key[0], f"{key[1]:0{map_.tie_width}x}:{key[2]}"]


@dataclass(frozen=True, slots=True)
class ShardPart:
    """A shard's segments of a map: their numbers, sets, trim marks and ranges as arguments."""

    numbers: list[int]
    sets: list[str]
    trims: list[str]
    ranges: list[str | int]  # 4 a segment


@dataclass(frozen=True, slots=True)
class Plan:
    """A board's map, cut into what each shard's scripts are sent (built once per map)."""

    map: BucketMap
    raw: bytes  # the map as stored
    home: int
    parts: dict[int, ShardPart]

    @classmethod
    def of(cls, board: str, raw: bytes, map_: BucketMap, home: int) -> Plan:
        parts: dict[int, ShardPart] = {}
        for i, seg in enumerate(map_.segments()):
            part = parts.setdefault(seg.shard, ShardPart([], [], [], []))
            part.numbers.append(i)
            part.sets.append(names.bucket_key(board, seg.set_id))
            part.trims.append(names.bucket_trim_key(board, seg.set_id))
            part.ranges.extend([*bound(map_, seg.low), *bound(map_, seg.high)])
        parts.setdefault(home, ShardPart([], [], [], []))
        return cls(map_, raw, home, parts)

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
    keys = [
        names.users_key(name),
        names.bucket_map_key(name),
        names.board_changes_key(name),
        names.writers_key(name),
        names.split_lock_key(name),
        *here.sets,
    ]
    args = [user_id, plan.map.epoch, sign(board), kept.changes if kept else "", *here.ranges]
    got = await run(runners[home], "entry_home", keys, args)
    if len(got) == 1:
        return ("none",)
    if len(got) == 2:
        return ("map", got[1])
    state = State(got[0])
    changes, quiet, place = got[2], got[3], got[4]
    key = key_from_member(zscore(board.order, state.total), state.member)
    segment = plan.map.segments().index(plan.map.locate(key))
    phantom = "p" if state.flag == HIDDEN else ""
    if kept is not None and not got[5]:  # the kept counts are good (a shard may hold no segment)
        counts = kept.counts
        seg = plan.map.segments()[segment]
        if seg.shard != home:
            k = [names.bucket_key(name, seg.set_id), names.bucket_trim_key(name, seg.set_id)]
            found = await run(
                runners[seg.shard],
                "place_in",
                k,
                [plan.map.epoch, *bound(plan.map, seg.low), key[0], state.member, phantom],
            )
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


async def counts_of(runners: Sequence[ScriptRunner], maps: Maps, board: str, plan: Plan) -> tuple[Any, ...]:
    """One attempt at every segment's in-range count under `plan`: the home shard's check
    (and counts), then, unless the kept counts are good, the other shards'. ('map', raw map)
    when the plan's map is not current, else ('counts', per segment counts, whether any user
    has details)."""
    home = plan.home
    here = plan.parts[home]
    kept = maps.kept(board, plan)
    keys = [
        names.bucket_map_key(board),
        names.details_flag_key(board),
        names.board_changes_key(board),
        names.writers_key(board),
        names.split_lock_key(board),
        *here.sets,
    ]
    got = await run(runners[home], "counts_home", keys, [plan.map.epoch, kept.changes if kept else "", *here.ranges])
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


async def slice_of(runner: ScriptRunner, board: str, map_: BucketMap, seg: Segment, start: int, count: int) -> Any:
    keys = [names.bucket_key(board, seg.set_id), names.bucket_trim_key(board, seg.set_id)]
    rows = await run(runner, "slice", keys, [map_.epoch, *bound(map_, seg.low), start, start + count - 1])
    if rows is None:
        raise Trimmed
    return rows


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
