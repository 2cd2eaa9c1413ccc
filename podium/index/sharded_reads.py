"""The sharded index's rank and page reads, in as few script calls as the map allows.

The reader keeps each board's map from its last read (`Maps`). A read sends that map's
epoch to the home shard, whose script answers only if it is still the current map, so a
read costs no separate round trip for the map; when it has changed, the script returns
the new one and the read starts over with it (once per map change).

  rank  = the home shard: the user's state, and where it stands among the home shard's
          own segments; then, only if the user's segment or segments before it are on
          other shards, one script on each of those, in parallel, counting ahead of it.
          A board on one shard (one bucket, never split): one script call.
  page  = the home shard's in-range counts and the other shards' together, in parallel;
          then the slices. A map of one segment on the home shard: one MULTI (the map,
          whether users have details, the slice), checked against the kept map.

Counting on other shards in parallel with the home shard's check is exact as counting
after a map read is: the map sent was read before the call, so if the home shard finds it
still current, it was current throughout (epochs only grow), and a set trimmed for a newer
map meanwhile refuses the count by its trim mark, as in COUNTS.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from podium import names
from podium.domain.boards import Board, Order
from podium.domain.buckets import BucketMap, Segment
from podium.domain.ordering import SortKey
from podium.index.redis import HIDDEN, State, key_from_member, zscore
from podium.index.script_runner import ScriptRunner, sha1
from podium.index.sharded_scripts import AHEAD, COUNTS, COUNTS_HOME, ENTRY_HOME, SLICE


class Trimmed(Exception):
    """The mover took members out of a set after this reader read the map."""


class Script:
    """A Lua script and its SHA1, as the runners send it."""

    __slots__ = ("sha", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        self.sha = sha1(source)


SCRIPTS = {name: Script(src) for name, src in (
    ("ahead", AHEAD), ("counts", COUNTS), ("counts_home", COUNTS_HOME),
    ("entry_home", ENTRY_HOME), ("slice", SLICE),
)}  # fmt: skip


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


class Maps:
    """Each board's map as last read, with its plan."""

    def __init__(self) -> None:
        self._plans: dict[str, Plan] = {}

    def plan(self, board: str) -> Plan | None:
        return self._plans.get(board)

    def epoch(self, board: str) -> int | str:
        plan = self._plans.get(board)
        return "" if plan is None else plan.map.epoch

    def keep(self, board: str, raw: bytes, map_: BucketMap, home: int) -> Plan:
        plan = self._plans.get(board)
        if plan is not None and plan.map is map_:
            return plan
        plan = Plan.of(board, raw, map_, home)
        self._plans[board] = plan
        return plan

    def forget(self, board: str) -> None:
        self._plans.pop(board, None)


def sign(board: Board) -> str:
    return "-1" if board.order is Order.DESC else "1"


async def run(runner: ScriptRunner, name: str, keys: list[str], args: Sequence[Any]) -> Any:
    script = SCRIPTS[name]
    return await runner.run(script.source, script.sha, keys, list(args))


async def rank_of(runners: Sequence[ScriptRunner], board: Board, user_id: str, plan: Plan) -> tuple[Any, ...]:
    """One attempt at a user's rank under `plan`. Returns ('map', raw map) when the plan's
    map is not current; ('none',) when the user is not ranked; else ('rank', state, key,
    rank), rank 0 when the user's member is between a write's steps."""
    home = plan.home
    here = plan.parts[home]
    keys = [names.users_key(board.name), names.bucket_map_key(board.name), *here.sets]
    got = await run(runners[home], "entry_home", keys, [user_id, plan.map.epoch, sign(board), *here.ranges])
    if len(got) == 1:
        return ("none",)
    if len(got) == 2:
        return ("map", got[1])
    raw, _, ahead, place = got
    state = State(raw)
    key = key_from_member(zscore(board.order, state.total), state.member)
    segment = plan.map.segments().index(plan.map.locate(key))
    others = []
    for shard, part in plan.parts.items():
        if shard == home or not part.numbers or part.numbers[0] > segment:
            continue
        upto = sum(1 for n in part.numbers if n <= segment)
        others.append((shard, part, upto))
    if others:
        phantom = "p" if state.flag == HIDDEN else ""

        async def ahead_on(shard: int, part: ShardPart, upto: int) -> list[int]:
            k = [*part.sets[:upto], *part.trims[:upto]]
            a = [plan.map.epoch, key[0], state.member, phantom, *part.ranges[: 4 * upto]]
            found = await run(runners[shard], "ahead", k, a)
            if found is None:
                raise Trimmed
            return [int(found[0]), int(found[1])]

        for more, where in await asyncio.gather(*(ahead_on(*o) for o in others)):
            ahead += more
            place = max(place, where)
    return ("rank", state, key, ahead + 1 if place == 1 else 0)


async def counts_of(runners: Sequence[ScriptRunner], board: str, plan: Plan) -> tuple[Any, ...]:
    """One attempt at every segment's in-range count under `plan`, the home shard's check of
    the map with the others' counts, in parallel: ('map', raw map) when the plan's map is not
    current, else ('counts', per segment counts, whether any user has details)."""
    home = plan.home

    async def on(shard: int, part: ShardPart) -> Any:
        if shard == home:
            keys = [names.bucket_map_key(board), names.details_flag_key(board), *part.sets]
            return await run(runners[shard], "counts_home", keys, [plan.map.epoch, *part.ranges])
        keys = [k for pair in zip(part.sets, part.trims, strict=True) for k in pair]
        return await run(runners[shard], "counts", keys, [plan.map.epoch, *part.ranges])  # None: trimmed

    shards = list(plan.parts)
    results = await asyncio.gather(*(on(s, plan.parts[s]) for s in shards))
    checked = results[shards.index(home)]
    if len(checked) == 1:
        return ("map", checked[0])  # first: a set trimmed for the new map refuses the old one
    members = [0] * len(plan.map.segments())
    flagged = bool(checked[1])
    for shard, found in zip(shards, results, strict=True):
        if found is None:
            raise Trimmed
        part = plan.parts[shard]
        sizes = found[2:] if shard == home else found[::2]
        for i, size in zip(part.numbers, sizes, strict=True):
            members[i] = int(size)
    return ("counts", members, flagged)


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
