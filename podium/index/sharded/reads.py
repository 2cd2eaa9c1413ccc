"""The sharded index's reads: rank, entries, page, counts and buckets, in a fixed number of
round trips however many buckets there are (the steps: `read_steps`)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from podium.domain.boards import Board
from podium.domain.buckets import BucketMap, Slice
from podium.domain.ordering import SortKey, subscore_of, tie_width
from podium.domain.totals import LogPosition
from podium.errors import BackendUnavailable
from podium.index.base import BucketInfo, Entry
from podium.index.redis import HIDDEN, State, call, key_from_member, zscore
from podium.index.resp import ScriptCall
from podium.index.script_runner import ScriptRunner, run_each
from podium.index.sharded.directory import Counts, Directory, decode_map
from podium.index.sharded.read_steps import (
    Plan,
    Trimmed,
    counts_call,
    counts_from,
    keys_of,
    page_entries,
    page_one,
    rank_of,
    rows_of,
    segments_counted,
    slice_call,
)
from podium.plumbing import names


def member_of_key(map_: BucketMap, key: SortKey) -> str:
    return f"{key[1]:0{map_.tie_width}x}:{key[2]}"


class Reads(Directory):
    """The index's reads: each attempt in `read_steps`, under the map the reader keeps."""

    async def entry(self, board: Board, user_id: str) -> Entry | None:
        """One script on the home shard, then one on the user's segment's shard if another
        (or, when the kept counts are not good, on every other shard): `read_steps`."""
        home = await self._home(board.name, create=False)
        if home is None:
            return None

        async def read() -> Entry | None:
            for _ in range(100):
                plan = await self._plan(board.name, home)
                if plan is None:
                    return None
                got = await rank_of(self._runners, self._maps, board, user_id, plan)
                if got[0] == "map":
                    self._keep_map(board.name, home, got[1])
                    continue
                if got[0] == "none" or got[3] == 0:
                    return None  # not ranked, or between a write's steps: the member is moving
                _, st, key, rank = got
                return _entry_of(board, rank, user_id, st, key)
            raise BackendUnavailable("redis: the bucket map kept changing under a read")

        return await self._read(read)

    async def _plan(self, board: str, home: int) -> Plan | None:
        """The board's map as the reads last found it (read once per process and board;
        after that, the reads' scripts return it when it has changed)."""
        plan = self._maps.plan(board)
        if plan is None:
            key = names.bucket_map_key(board)
            raw = await call(lambda: self._shards[home].get(key))
            plan = self._keep_map(board, home, raw)
        return plan

    def _keep_map(self, board: str, home: int, raw: bytes | str | None) -> Plan | None:
        map_ = decode_map(raw)
        if not raw or map_ is None:
            self._maps.forget(board)  # dropped: the next read finds no board
            return None
        return self._maps.keep(board, raw.encode() if isinstance(raw, str) else raw, map_, home)

    async def entries(self, board: Board, user_ids: Sequence[str]) -> list[Entry | None]:
        """Many users' entries in a fixed number of round trips: their states and the map
        from the home shard, then one script per shard counting every segment and placing
        each user found there."""
        if not user_ids:
            return []
        home = await self._home(board.name, create=False)
        if home is None:
            return [None] * len(user_ids)
        shard = self._shards[home]
        users = list(user_ids)

        async def read_home() -> list[Any]:
            async with shard.pipeline(transaction=True) as pipe:
                pipe.hmget(names.users_key(board.name), users)
                pipe.get(names.bucket_map_key(board.name))
                result: list[Any] = await pipe.execute()
                return result

        async def read() -> list[Entry | None]:
            raw_states, raw_map = await call(read_home)
            map_ = decode_map(raw_map)
            if map_ is None:
                return [None] * len(users)
            # user index, state, key
            found = _found(board, users, raw_states)
            members, places = await self._counts_and_places_of(
                board.name, map_, [(key, st.member) for _, st, key in found]
            )
            out: list[Entry | None] = [None] * len(users)
            for (i, st, key), (seg_no, place) in zip(found, places, strict=True):
                out[i] = _entry_of(board, map_.rank(members, seg_no, place), users[i], st, key)
            return out

        return await self._read(read)

    async def unplaced(self, board: Board, user_ids: Sequence[str]) -> list[Entry | None]:
        """The users' states from the home shard's hash, one HMGET: no bucket is counted, as
        no place on the board is asked for (the totals are those `entries` reads)."""
        if not user_ids:
            return []
        home = await self._home(board.name, create=False)
        if home is None:
            return [None] * len(user_ids)
        shard = self._shards[home]
        users = list(user_ids)
        raw_states = await call(lambda: shard.hmget(names.users_key(board.name), users))
        out: list[Entry | None] = [None] * len(users)
        for i, st, key in _found(board, users, raw_states):
            out[i] = _entry_of(board, 0, users[i], st, key)
        return out

    async def count_before(self, board: Board, key: SortKey) -> int:
        async def read() -> int:
            map_ = await self._map(board.name)
            if map_ is None:
                return 0
            segment = map_.segments().index(map_.locate(key))
            counts = await self._count(board.name, map_, (segment, member_of_key(map_, key)), phantom=key)
            return map_.rank(counts.members, segment, counts.position or 0) - 1

        return await self._read(read)

    async def counts_before(self, board: Board, keys: Sequence[SortKey]) -> list[int]:
        """The map once, then one script per shard counting every segment and placing each
        key in its segment (`counts_and_places`, as `entries` places users): a fixed number
        of round trips for any number of keys, where `count_before` each was one map read
        and one script per shard a key."""
        if not keys:
            return []
        wanted = list(keys)

        async def read() -> list[int]:
            map_ = await self._map(board.name)
            if map_ is None:
                return [0] * len(wanted)
            members, places = await self._counts_and_places_of(
                board.name, map_, [(key, member_of_key(map_, key)) for key in wanted]
            )
            return [map_.rank(members, seg_no, place) - 1 for seg_no, place in places]

        return await self._read(read)

    async def _counts_and_places_of(
        self, board: str, map_: BucketMap, keyed: Sequence[tuple[SortKey, str]]
    ) -> tuple[list[int], list[tuple[int, int]]]:
        """One script per shard (`counts_and_places`): every segment's members, and for each
        (key, member) its segment and its place there. Raises Trimmed if a shard's set moved
        past the map's epoch (the caller's `_read` retries)."""
        segments = map_.segments()
        number = {id(seg): i for i, seg in enumerate(segments)}
        at = [number[id(map_.locate(key))] for key, _ in keyed]  # each key's segment
        on_shard: dict[int, list[int]] = defaultdict(list)
        for i, seg in enumerate(segments):
            on_shard[seg.shard].append(i)

        async def count(shard_no: int, which: list[int]) -> list[int] | None:
            local = {seg_no: j + 1 for j, seg_no in enumerate(which)}
            keys, args = segments_counted(board, map_, segments, which)
            for (key, member), seg_no in zip(keyed, at, strict=True):
                if seg_no in local:
                    args += [local[seg_no], key[0], member]
            result = await call(lambda: self._counts_and_places[shard_no](keys=keys, args=args))
            return None if result is None else [int(x) for x in result]

        shard_list = list(on_shard)
        results = await asyncio.gather(*(count(s, on_shard[s]) for s in shard_list))
        members = [0] * len(segments)
        position = [0] * len(keyed)
        for shard_no, result in zip(shard_list, results, strict=True):
            if result is None:
                raise Trimmed
            which = on_shard[shard_no]
            for j, i in enumerate(which):
                members[i] = result[2 * j]
            here = set(which)
            placed = iter(result[2 * len(which) :])
            for k, seg_no in enumerate(at):
                if seg_no in here:
                    position[k] = next(placed)
        return members, list(zip(at, position, strict=True))

    async def groups_before(self, board: Board, key: SortKey) -> int:
        home = await self._home(board.name, create=False)
        if home is None:
            return 0
        tie = f"{key[1]:0{tie_width(board)}x}"[:-16]
        args: list[str | int] = [key[0], f"{tie}:{key[0]}"]
        found = await call(lambda: self._groups_before[home](keys=[names.groups_key(board.name)], args=args))
        return int(found)

    async def page(self, board: Board, first_rank: int, count: int) -> list[Entry]:
        """The home shard's check of the kept map and counts (the other shards' counts if
        those are not good), then the slices; a board of one segment on its home shard:
        one MULTI (`read_steps`)."""
        if count <= 0:
            return []
        home = await self._home(board.name, create=False)
        if home is None:
            return []

        async def read() -> list[Entry]:
            for _ in range(100):
                plan = await self._plan(board.name, home)
                if plan is None:
                    return []
                if plan.single is not None:
                    start = max(first_rank, 1) - 1
                    got = await page_one(self._runners[home], board.name, plan, start, count)
                    if got[0] == "map":
                        self._keep_map(board.name, home, got[1])
                        continue
                    keys, with_details = keys_of(got[1]), got[2]
                    shown = await self._details(board.name, [k[2] for k in keys]) if with_details else {}
                    return page_entries(board, [(start + 1, keys)], shown)
                call, kept = counts_call(self._maps, board.name, plan)
                if kept is not None:
                    # The slices the kept counts call for, sent beside the check that they still
                    # hold: one round trip, not two, on a board read more often than written.
                    # Should the check find them stale, the slices are dropped.
                    slices = plan.map.page(kept.counts, first_rank, count)
                    checked, *guessed = await run_each([(self._runners[home], call), *self._slice_calls(plan, slices)])
                    if isinstance(checked, BaseException):
                        raise checked
                    counted = await counts_from(self._runners, self._maps, board.name, plan, kept, checked)
                    if counted[0] == "map":
                        self._keep_map(board.name, home, counted[1])
                        continue
                    if failed := [r for r in guessed if isinstance(r, BaseException)]:
                        raise failed[0]
                    # A slice the mover trimmed under it (None): the check may have come first.
                    results = guessed
                    if counted[1] != kept.counts or any(r is None for r in guessed):
                        slices = plan.map.page(counted[1], first_rank, count)
                        results = await self._slices(plan, slices)
                else:
                    checked = await self._runners[home].call(call)
                    counted = await counts_from(self._runners, self._maps, board.name, plan, None, checked)
                    if counted[0] == "map":
                        self._keep_map(board.name, home, counted[1])
                        continue
                    slices = plan.map.page(counted[1], first_rank, count)
                    results = await self._slices(plan, slices)
                with_details = counted[2]
                runs = [(s.first_rank, keys_of(rows)) for s, rows in zip(slices, results, strict=True)]
                shown = await self._details(board.name, [k[2] for _, ks in runs for k in ks]) if with_details else {}
                return page_entries(board, runs, shown)
            raise BackendUnavailable("redis: the bucket map kept changing under a read")

        return await self._read(read)

    def _slice_calls(self, plan: Plan, slices: list[Slice]) -> list[tuple[ScriptRunner, ScriptCall]]:
        return [(self._runners[s.segment.shard], slice_call(plan, s.segment, s.start, s.count)) for s in slices]

    async def _slices(self, plan: Plan, slices: list[Slice]) -> list[Any]:
        """The slices' rows, read at once."""
        replies = await run_each(self._slice_calls(plan, slices))
        if failed := [r for r in replies if isinstance(r, BaseException)]:
            raise failed[0]
        return [rows_of(r) for r in replies]

    async def _details(self, board: str, users: list[str]) -> dict[str, tuple[str, str]]:
        if not users:
            return {}
        home = self._shards[self.home(board)]
        raw = await call(lambda: home.hmget(names.users_key(board), users))
        return {u: State(r, u).display() for u, r in zip(users, raw, strict=True) if r is not None}

    async def count(self, board: Board) -> int:
        async def read() -> int:
            map_ = await self._map(board.name)
            return 0 if map_ is None else sum((await self._count(board.name, map_)).members)

        return await self._read(read)

    async def position(self, board: Board, user_id: str) -> LogPosition | None:
        held = await self.newest(board, user_id)
        return held[0] if held is not None else None

    async def positions(self, board: Board, user_ids: Sequence[str]) -> list[LogPosition | None]:
        # One HMGET of the users' states on the board's home shard.
        home = await self._home(board.name, create=False)
        if home is None or not user_ids:
            return [None] * len(user_ids)
        shard = self._shards[home]
        raw = await call(lambda: shard.hmget(names.users_key(board.name), list(user_ids)))
        return [None if r is None else State(r, u).position for u, r in zip(user_ids, raw, strict=True)]

    async def newest(self, board: Board, user_id: str) -> tuple[LogPosition, int] | None:
        home = await self._home(board.name, create=False)
        if home is None:
            return None
        shard = self._shards[home]
        raw = await call(lambda: shard.hget(names.users_key(board.name), user_id))
        if raw is None:
            return None
        state = State(raw, user_id)
        return state.position, state.version

    async def buckets(self, board: Board) -> list[BucketInfo]:
        async def read() -> tuple[BucketMap | None, Counts | None]:
            map_ = await self._map(board.name)
            return (map_, None) if map_ is None else (map_, await self._count(board.name, map_))

        map_, counts = await self._read(read)
        if map_ is None or counts is None:
            return []
        members = map_.bucket_members(counts.members)
        moving: dict[int, int] = defaultdict(int)
        for seg, size in zip(map_.segments(), counts.members, strict=True):
            if seg.set_id != seg.bucket.id:
                moving[seg.bucket.id] += size
        rates = await self._write_rates(board.name)
        return [
            BucketInfo(b.id, b.lower, b.shard, members[b.id], rates.get(b.id, 0.0), moving[b.id]) for b in map_.buckets
        ]


def _found(board: Board, users: Sequence[str], raw_states: Sequence[Any]) -> list[tuple[int, State, SortKey]]:
    """The users (by their place in `raw_states`, an HMGET of `users` in the users hash) that a read
    finds, with their states and rank keys: ranked ones and hidden ones, not removed ones."""
    found = []
    for i, raw in enumerate(raw_states):
        if raw is None:
            continue
        st = State(raw, users[i])
        if st.in_sets or st.flag == HIDDEN:
            found.append((i, st, key_from_member(zscore(board.order, st.total), st.member)))
    return found


def _entry_of(board: Board, rank: int, user_id: str, st: State, key: SortKey) -> Entry:
    name, metadata = st.display()
    return Entry(rank, user_id, st.total, subscore_of(board, key[1]), name, metadata, st.flag == HIDDEN, key)
