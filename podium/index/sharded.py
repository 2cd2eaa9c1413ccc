"""The sharded rank index: a board cut into score buckets over several Redis shards.

Each board has a home shard (recorded in a directory on the first shard when the
board is first written, so adding shards never moves it) holding its bucket map
(`domain.buckets.BucketMap`, JSON), every user's newest total and version, the
writers' leases and the board's lock. Each bucket is a sorted set on the shard the
map places it on, in the single-set index's encoding (`index.redis`): score =
±total, member = reached_at + user, so members sort in rank order.

The map cuts the board into segments, each a key range read from one sorted set
(a bucket in transit has two: the part still in the set it came from, and its
own). A segment's members are those of its set *within its range*: counts are
read from the sorted sets themselves, by range, never kept apart. So a count can
never drift from the members, and whatever a move or a crash leaves outside a
range is simply not counted.

Reads cost a fixed number of round trips however many buckets there are (rank and page:
`index.sharded_reads`, with the map and the counts a reader keeps between reads):
  rank  = the home shard (user, map check, its own sets), then the user's segment's
          shard, or, when the kept counts are not good, every other shard in parallel
  page  = the home shard (map check), the other shards' counts if needed, the slices
A read whose map is older than the last members the mover took out of a set it
counts (the set's trim mark) reads again with the new map.

Writes (the rank-worker), per batch:
  1. begin, on the home shard: unless the board is locked, take a lease and read
     the users' versions and the map (its epoch is the writer's fence);
  2. move the members, one script per shard, refused if a set's fence is newer
     than the writer's map (the mover has started on it);
  3. commit, on the home shard: if the lease is still held and the map unchanged,
     store each total whose version is still the one read.
Every step is idempotent; any refusal retries the batch from step 1.

Resharding is lazy (design notes §6.2). A bucket over the member or write-rate
threshold of `SplitPolicy` is split by one map change: the new bucket, placed on
the least-loaded shard, starts in transit from the old bucket's set. A
background mover then carries its members over, a batch at a time from the top
of its range down: under the board's lock (once the writers' leases drain) it
raises the two sets' fences, copies the batch, lowers the transit's cursor in
the map, then removes the batch from the old set and raises that set's trim
mark. Writes go on between batches, to whichever set the map gives their key,
and reads are exact at every step. Moving a whole bucket to another shard (a
new shard taking its share) is the same transit.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
import zlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from podium import names
from podium.domain.boards import Board, Order, Tie
from podium.domain.buckets import Bucket, BucketMap, Slice, SplitPolicy, least_loaded, rebalancing_move, shard_loads
from podium.domain.ordering import SortKey, subscore_of, tie_width, tiebreak, total_key
from podium.domain.totals import LogPosition, Total, newest_per_user
from podium.errors import BackendUnavailable
from podium.index.base import BucketInfo, Entry
from podium.index.redis import (
    HIDDEN,
    MEMBERS_OF,
    State,
    call,
    details,
    flag,
    key_from_member,
    member,
    members_of,
    parse_state,
    state,
    state_of,
    wait_for_replicas,
    zscore,
)
from podium.index.script_runner import ScriptRunner
from podium.index.sharded_reads import (
    Maps,
    Plan,
    Trimmed,
    bound,
    counts_of,
    keys_of,
    page_entries,
    page_one,
    rank_of,
    slice_of,
)
from podium.index.sharded_scripts import (
    APPLY_SINGLE,
    BEGIN,
    CHANGED,
    COMMIT,
    COUNTS,
    COUNTS_AND_PLACES,
    GROUPS_BEFORE,
    LIVE_LEASES,
    LOCK_TTL_MS,
    MOVE,
    PLACE,
    RECORD,
    RENEW,
    SET_MAP,
    TAIL,
    UNLOCK,
)
from podium.together import together

if TYPE_CHECKING:
    import redis.asyncio as aioredis

log = logging.getLogger("podium.index.sharded")
_T = TypeVar("_T")


POOL_SIZE = 200  # connections per shard and process


class StaleMap(Exception):
    """A set refused a write: the mover started on it after this writer read the map."""


def member_of_key(map_: BucketMap, key: SortKey) -> str:
    return f"{key[1]:0{map_.tie_width}x}:{key[2]}"


def dense_sign(board: Board) -> str:
    """What the scripts keeping tie groups need of a board ('' : it keeps none)."""
    if board.tie is not Tie.DENSE:
        return ""
    return "-1" if board.order is Order.DESC else "1"


@dataclass(frozen=True, slots=True)
class Counts:
    """Per segment of a map (in its order): in-range members, and members of the segment's
    set below its range; with `position`, the wanted member's place in its segment."""

    members: list[int]
    below: list[int]
    position: int | None = None


class ShardedRedisRankIndex:
    def __init__(
        self,
        shards: Sequence[aioredis.Redis],
        *,
        policy: SplitPolicy | None = None,
        wait_replicas: int = 0,
        wait_timeout_ms: int = 1000,
        lease_ms: int = 10_000,
        move_batch: int = 1000,
        background_mover: bool = True,
    ) -> None:
        if not shards:
            raise ValueError("the sharded rank index needs at least one shard")
        self._shards = list(shards)
        self.policy = policy or SplitPolicy()
        self._wait_replicas = wait_replicas
        self._wait_timeout_ms = wait_timeout_ms
        self._lease_ms = lease_ms
        self._move_batch = move_batch
        self._background_mover = background_mover
        self._movers: dict[str, asyncio.Task[None]] = {}
        self.commits_overtaken = 0  # users another writer committed first (see _apply_once)
        self._writer_id = uuid.uuid4().hex
        self._homes: dict[str, int] = {}
        self._begin = [s.register_script(BEGIN) for s in self._shards]
        self._move_script = [s.register_script(MOVE) for s in self._shards]
        self._commit = [s.register_script(COMMIT) for s in self._shards]
        self._apply_single_script = [s.register_script(APPLY_SINGLE) for s in self._shards]
        self._counts = [s.register_script(COUNTS) for s in self._shards]
        self._counts_and_places = [s.register_script(COUNTS_AND_PLACES) for s in self._shards]
        self._tail = [s.register_script(TAIL) for s in self._shards]
        self._place = [s.register_script(PLACE) for s in self._shards]
        self._live_leases = [s.register_script(LIVE_LEASES) for s in self._shards]
        self._renew = [s.register_script(RENEW) for s in self._shards]
        self._unlock = [s.register_script(UNLOCK) for s in self._shards]
        self._set_map_script = [s.register_script(SET_MAP) for s in self._shards]
        # The token of each board's lock while this process holds it: one per hold, so a
        # hold that outlived its lock cannot renew, release or write under the next one's.
        self._lock_tokens: dict[str, str] = {}
        self._members_of = [s.register_script(MEMBERS_OF) for s in self._shards]
        self._record = [s.register_script(RECORD) for s in self._shards]
        self._groups_before = [s.register_script(GROUPS_BEFORE) for s in self._shards]
        self._changed_script = [s.register_script(CHANGED) for s in self._shards]
        self._details_flagged: set[str] = set()
        # Each board's map as this writer's last batch saw it: whether the next batch may
        # take the single-bucket path (the script checks the map is still that one).
        self._written_maps: dict[str, BucketMap] = {}
        self.single_bucket_path = True  # tests turn it off to drive the general path
        self._runners = [ScriptRunner(s, POOL_SIZE) for s in self._shards]  # the reads' connections
        self._maps = Maps()  # each board's map as the reads last found it

    @classmethod
    def from_urls(
        cls, urls: Sequence[str], *, auth: Mapping[str, Any] | None = None, **kwargs: Any
    ) -> ShardedRedisRankIndex:
        """`auth`: the username and password for every shard (a URL's own credentials win)."""
        import redis.asyncio as aioredis  # the driver is needed only by this profile

        # A blocking pool: a burst of reads waits for a connection instead of failing with
        # "Too many connections" once the pool's size is reached.
        pools = [
            aioredis.BlockingConnectionPool.from_url(u, max_connections=POOL_SIZE, timeout=20, **(auth or {}))
            for u in urls
        ]
        return cls([aioredis.Redis(connection_pool=p) for p in pools], **kwargs)

    # -- plumbing ---------------------------------------------------------------------------

    def home(self, board: str) -> int:
        """The board's home shard, once known (see `_home`)."""
        return self._homes[board]

    async def _home(self, board: str, *, create: bool) -> int | None:
        """The board's home shard, from the directory on the first shard (cached: a home
        never changes). A board first written gets the shard its name hashes to among
        the shards configured then; None for a board never written (when not creating)."""
        if board in self._homes:
            return self._homes[board]
        directory = self._shards[0]
        raw = await call(lambda: directory.hget(names.homes_key(), board))
        if raw is None:
            guess = zlib.crc32(board.encode()) % len(self._shards)
            if not create:
                # A board written before the directory existed lives where its name hashes to.
                map_key = names.bucket_map_key(board)
                if not await call(lambda: self._shards[guess].exists(map_key)):
                    return None
            await call(lambda: directory.hsetnx(names.homes_key(), board, guess))
            raw = await call(lambda: directory.hget(names.homes_key(), board))
        home = int(raw if raw is not None else guess)
        if home >= len(self._shards):
            raise BackendUnavailable(f"redis: board {board!r} lives on shard {home}, beyond the configured shards")
        self._homes[board] = home
        return home

    async def _map(self, board: str) -> BucketMap | None:
        home = await self._home(board, create=False)
        if home is None:
            return None
        key = names.bucket_map_key(board)
        return _decode_map(await call(lambda: self._shards[home].get(key)))

    async def _set_map(self, board: str, read: BucketMap, new: BucketMap) -> bool:
        """Put `new` in place of `read`, under the board's lock as this hold took it; False
        (nothing changed) if the lock lapsed or the map is no longer `read`: the caller's
        step is dropped, and the next hold starts again from the map as it is."""
        home = self.home(board)
        keys = [names.bucket_map_key(board), names.split_lock_key(board)]
        args: list[str | int | bytes] = [self._lock_tokens.get(board, ""), read.epoch, orjson.dumps(new.to_json())]
        if await call(lambda: self._set_map_script[home](keys=keys, args=args)):
            return True
        log.warning("map change dropped: the board's lock lapsed under it", extra={"board": board})
        return False

    async def _count(
        self, board: str, map_: BucketMap, wanted: tuple[int, str] | None = None, *, phantom: SortKey | None = None
    ) -> Counts:
        """In-range member counts of every segment (one script per shard, in parallel); with
        `wanted` = (segment number, member), also the member's position in that segment,
        or with `phantom` (a key, in `wanted`'s segment) where that key would sort.
        Raises Trimmed if the mover has taken members out of a counted set since `map_`."""
        segments = map_.segments()
        per_shard: dict[int, list[int]] = defaultdict(list)
        for i, seg in enumerate(segments):
            if wanted is None or i != wanted[0]:
                per_shard[seg.shard].append(i)
        if wanted is not None:
            per_shard[segments[wanted[0]].shard].append(wanted[0])  # last on its shard: the script ranks it

        async def count(shard: int, which: list[int]) -> list[int] | None:
            keys: list[str] = []
            args: list[str | int] = [map_.epoch]
            for i in which:
                seg = segments[i]
                keys += [names.bucket_key(board, seg.set_id), names.bucket_trim_key(board, seg.set_id)]
                args += [*bound(map_, seg.low), *bound(map_, seg.high)]
            if wanted is not None and shard == segments[wanted[0]].shard:
                args.append(wanted[1])
                if phantom is not None:
                    args += [phantom[0], "p"]
            result = await call(lambda: self._counts[shard](keys=keys, args=args))
            return None if result is None else [int(x) for x in result]

        shards = list(per_shard)
        results = await asyncio.gather(*(count(s, per_shard[s]) for s in shards))
        members = [0] * len(segments)
        below = [0] * len(segments)
        position = None
        for shard, result in zip(shards, results, strict=True):
            if result is None:
                raise Trimmed
            for j, i in enumerate(per_shard[shard]):
                members[i] = result[2 * j]
                below[i] = result[2 * j + 1]
            if wanted is not None and shard == segments[wanted[0]].shard:
                position = result[-1]
        return Counts(members, below, position)

    async def _read(self, read: Callable[[], Awaitable[_T]]) -> _T:
        """Run a read, again with a fresh map while the mover trims under it."""
        for _ in range(100):
            try:
                return await read()
            except Trimmed:
                await asyncio.sleep(0)
        raise BackendUnavailable("redis: the bucket map kept changing under a read")

    # -- writes -----------------------------------------------------------------------------

    async def apply(self, board: Board, totals: Sequence[Total]) -> list[Total]:
        return (await self._apply(board, totals, ranks=False))[0]

    async def apply_ranked(self, board: Board, totals: Sequence[Total]) -> tuple[list[Total], dict[str, int]]:
        return await self._apply(board, totals, ranks=True)

    async def _apply(self, board: Board, totals: Sequence[Total], *, ranks: bool) -> tuple[list[Total], dict[str, int]]:
        newest = newest_per_user(totals)
        if not newest:
            return [], {}
        single = await self._apply_single(board, newest, ranks=ranks)
        if single is not None:
            return single
        done = await self._apply_general(board, newest)
        return done, await self._ranks(board, done) if ranks else {}

    async def _ranks(self, board: Board, applied: list[Total]) -> dict[str, int]:
        """The rank each applied user that is not removed has now (a hidden one: its own view)."""
        users = [t.user_id for t in applied if not t.removed]
        return {e.user_id: e.rank for e in await self.entries(board, users) if e is not None}

    async def _apply_single(
        self, board: Board, totals: list[Total], *, ranks: bool
    ) -> tuple[list[Total], dict[str, int]] | None:
        """The batch in one script, if the board's map (as this writer last saw it) is one
        settled bucket on the home shard: the default distributed profile's board, and every
        board below its split threshold. None if it is not, or is no longer (a split began,
        the board is locked): the general path then takes the batch."""
        if not self.single_bucket_path:
            return None
        map_ = self._written_maps.get(board.name)
        if map_ is None:  # this writer's first batch of the board: one read, not a general batch
            await self._home(board.name, create=True)
            map_ = await self._map(board.name)
            if map_ is None:
                await self._create_map(board)
                map_ = await self._map(board.name)
                if map_ is None:
                    return None  # dropped meanwhile
            self._written_maps[board.name] = map_
        home = self.home(board.name)
        [bucket] = map_.buckets if len(map_.buckets) == 1 else [None]
        if bucket is None or bucket.transit is not None or bucket.shard != home:
            return None
        await self._flag_details(board, totals, home)
        now_s = int(time.time())
        keys = [
            names.split_lock_key(board.name),
            names.bucket_map_key(board.name),
            names.users_key(board.name),
            names.pending_key(board.name),
            names.bucket_key(board.name, bucket.id),
            names.bucket_fence_key(board.name, bucket.id),
            names.bucket_writes_key(board.name, now_s),
            names.bucket_writes_key(board.name, now_s - 1),
            names.group_sizes_key(board.name),
            names.groups_key(board.name),
            names.board_changes_key(board.name),
        ]
        args: list[str | int | bytes] = [map_.epoch, bucket.id, dense_sign(board), "1" if ranks else ""]
        args.append(_single_batch(board, totals))
        result = await call(lambda: self._apply_single_script[home](keys=keys, args=args))
        if not isinstance(result, list):
            self._written_maps.pop(board.name, None)  # locked or split: BEGIN reads the map afresh
            return None
        positions, rank_list, members, last_s_writes = result
        applied = [totals[i - 1] for i in positions]
        await self._wait_for_replicas({home})
        # What `_maybe_split` would read, from the script: no read unless a split is due.
        rate = float(last_s_writes) if any(t.ranked for t in applied) else 0.0
        if self.policy.needs_split(int(members), rate):
            await self._maybe_split(board.name, {bucket.id})
            self._written_maps.pop(board.name, None)  # split: the next batch reads the map it made
        ranked = {t.user_id: int(r) for t, r in zip(applied, rank_list, strict=False) if r}
        return applied, ranked

    async def _flag_details(self, board: Board, totals: list[Total], home: int) -> None:
        if board.name not in self._details_flagged and any(details(t) for t in totals):
            # Before any state with details is committed: a page reads them once this is set.
            flag_key = names.details_flag_key(board.name)
            await call(lambda: self._shards[home].set(flag_key, 1))
            self._details_flagged.add(board.name)

    async def _apply_general(self, board: Board, newest: list[Total]) -> list[Total]:
        """BEGIN, MOVE per shard, COMMIT: a batch over buckets on any shards, in transit or not."""
        done: list[Total] = []
        tried_again: list[Total] = []
        for attempt in range(300):
            result = await self._apply_once(board, newest)
            if result is None:
                await asyncio.sleep(min(0.001 * 2**attempt, 0.05))  # the board is locked: wait
                continue
            applied, newest = result
            done += applied
            tried_again += newest
            if not newest:
                if overtaken := [t for t in tried_again if t not in done]:
                    # A third writer got ahead while we tried again: our member is a stray now.
                    await self._drop_refused(board, overtaken, await self._states(board.name, overtaken))
                await self._maybe_split(board.name, await self._touched(board, done))
                return done
        raise BackendUnavailable(f"redis: board {board.name!r} stayed locked")

    async def _states(self, board: str, totals: list[Total]) -> dict[str, str]:
        home = self._shards[self.home(board)]
        users = [t.user_id for t in totals]
        raw = await call(lambda: home.hmget(names.users_key(board), users))
        return {u: _text(r) if r is not None else "" for u, r in zip(users, raw, strict=True)}

    async def _apply_once(self, board: Board, totals: list[Total]) -> tuple[list[Total], list[Total]] | None:
        """One attempt: None to retry it whole; else the totals applied, and those to try
        again (another writer committed an older total for their users meanwhile)."""
        home = await self._home(board.name, create=True)
        assert home is not None
        keys = [
            names.split_lock_key(board.name),
            names.writers_key(board.name),
            names.users_key(board.name),
            names.bucket_map_key(board.name),
            names.pending_key(board.name),
            names.board_changes_key(board.name),
        ]
        # Per user one JSON row, not three arguments: packing them was most of the writer's CPU.
        rows = [[t.user_id, t.version, _pending(board, t)] for t in totals]
        args: list[str | int | bytes] = [self._writer_id, self._lease_ms, orjson.dumps(rows)]
        await self._flag_details(board, totals, home)
        begun = await call(lambda: self._begin[home](keys=keys, args=args))
        if begun is None:
            return None  # the board is locked
        started = time.monotonic()
        map_ = _decode_map(begun[0])
        if map_ is not None:
            self._written_maps[board.name] = map_
        else:
            await self._release(board.name)
            await self._create_map(board)
            return None
        moves: dict[int, list[tuple[int, str, str, float]]] = defaultdict(list)  # shard → (set, op, member, score)
        commit_rows: list[list[str | int]] = []
        applied: list[Total] = []
        for t, raw, earlier in zip(totals, begun[1], begun[2], strict=True):
            current = parse_state(raw) if raw else None
            if current is not None and current[0] >= t.version:
                continue  # not newer: a duplicate or a reordered change
            if earlier and earlier.decode() != _pending(board, t):
                # An attempt that died before its commit added this member: take it out.
                score, _, stray = earlier.decode().partition("|")
                where = map_.locate(key_from_member(float(score), stray))
                moves[where.shard].append((where.set_id, "r", stray, 0))
            if current is not None and not current[1]:
                _, _, old_member, old_total, _ = current
                old = map_.locate(key_from_member(zscore(board.order, old_total), old_member))
                moves[old.shard].append((old.set_id, "r", old_member, 0))
            bucket_id = ""
            if t.ranked:
                new = map_.locate(total_key(board, t))
                moves[new.shard].append((new.set_id, "a", member(board, t), zscore(board.order, t.total)))
                bucket_id = str(new.bucket.id)
            commit_rows.append([t.user_id, current[0] if current is not None else -1, state(board, t), bucket_id])
            applied.append(t)
        if time.monotonic() - started > self._lease_ms / 3000:
            await self._release(board.name)  # too slow: the lease may lapse mid-move; start over
            return None
        try:
            await together(*(self._move(board.name, shard, map_.epoch, ops) for shard, ops in moves.items()))
        except StaleMap:
            await self._release(board.name)
            await self._heal_fences(board.name, map_)
            return None
        commit_keys = [
            names.writers_key(board.name),
            names.users_key(board.name),
            names.bucket_map_key(board.name),
            names.bucket_writes_key(board.name, int(time.time())),
            names.pending_key(board.name),
            names.group_sizes_key(board.name),
            names.groups_key(board.name),
        ]
        commit_args: list[str | int | bytes] = [self._writer_id, map_.epoch, dense_sign(board)]
        commit_args.append(orjson.dumps(commit_rows))
        done = await call(lambda: self._commit[home](keys=commit_keys, args=commit_args))
        if done == -1:
            return None  # the lease lapsed or the map changed: redo the (idempotent) batch
        again: list[Total] = []
        if len(done) > 1:
            # Another writer committed some of these users first (a rebuild filling a board
            # while the rank-worker writes it). Where ours is newer, try it again (that
            # attempt replaces the winner's member with ours); else ours lost, and what this
            # attempt added for it must go.
            winners = {_text(done[i]): _text(done[i + 1]) for i in range(1, len(done), 2)}
            refused = [t for t in applied if t.user_id in winners]
            again = [t for t in refused if t.version > _version(winners[t.user_id])]
            self.commits_overtaken += len(refused)
            log.info(
                "another writer committed first",
                extra={"board": board.name, "users": len(refused), "trying_again": len(again)},
            )
            await self._drop_refused(board, [t for t in refused if t not in again], winners)
            applied = [t for t in applied if t.user_id not in winners]
        await self._wait_for_replicas({home, *moves})
        if map_.in_transit():
            self._start_mover(board.name)  # e.g. a transit a crashed worker left behind
        return applied, again

    async def _drop_refused(self, board: Board, lost: list[Total], winners: Mapping[str, str]) -> None:
        """Remove the members a writer added for users another writer committed first,
        unless the winner's member is the same one."""
        for _ in range(10):
            map_ = await self._map(board.name)
            if map_ is None:
                return
            ops: dict[int, list[tuple[int, str, str, float]]] = defaultdict(list)
            for t in lost:
                winner = winners[t.user_id]
                if not t.ranked or (winner and parse_state(winner)[2] == member(board, t)):
                    continue
                where = map_.locate(total_key(board, t))
                ops[where.shard].append((where.set_id, "r", member(board, t), 0))
            try:
                await together(*(self._move(board.name, s, map_.epoch, o) for s, o in ops.items()))
                await self._changed(board.name)  # outside a lease: readers' kept counts are off
                return
            except StaleMap:
                await asyncio.sleep(0.01)  # the mover is at a batch: read the map again

    async def _heal_fences(self, board: str, map_: BucketMap) -> None:
        """A fence newer than the map while the board is not locked was left by a mover
        that died before its map change: lower it to the map's epoch."""
        home = self._shards[self.home(board)]
        if await call(lambda: home.exists(names.split_lock_key(board))):
            return  # the mover is at work: wait for it
        current = await self._map(board)
        if current is None or current.epoch != map_.epoch:
            return  # the map moved on: the writer simply retries with it
        for seg in map_.segments():
            await self._lower_fence(self._shards[seg.shard], names.bucket_fence_key(board, seg.set_id), map_.epoch)

    async def _lower_fence(self, client: aioredis.Redis, key: str, epoch: int) -> None:
        fence = await call(lambda: client.get(key))
        if fence is not None and int(fence) > epoch:
            log.warning("lowering a fence left by a dead mover", extra={"fence": key})
            await call(lambda: client.set(key, epoch))

    async def _changed(self, board: str) -> None:
        """Members changed outside a writer's lease: raise the board's change number."""
        home = self.home(board)
        await call(lambda: self._changed_script[home](keys=[names.board_changes_key(board)]))

    async def _release(self, board: str) -> None:
        shard = self._shards[self.home(board)]
        await call(lambda: shard.zrem(names.writers_key(board), self._writer_id))

    async def _move(self, board: str, shard: int, epoch: int, ops: list[tuple[int, str, str, float]]) -> None:
        keys: list[str] = []
        args: list[str | int | float] = [epoch]
        for set_id, op, mem, score in ops:
            keys += [names.bucket_key(board, set_id), names.bucket_fence_key(board, set_id)]
            args += [op, mem, score]
        if not await call(lambda: self._move_script[shard](keys=keys, args=args)):
            raise StaleMap

    async def _create_map(self, board: Board) -> None:
        initial = BucketMap.single(shard=self.home(board.name), tie_width=tie_width(board))
        key = names.bucket_map_key(board.name)
        await call(lambda: self._shards[self.home(board.name)].set(key, orjson.dumps(initial.to_json()), nx=True))

    async def _wait_for_replicas(self, shards: set[int]) -> None:
        await asyncio.gather(
            *(
                wait_for_replicas(self._shards[s], self._wait_replicas, self._wait_timeout_ms, f"redis shard {s}")
                for s in shards
            )
        )

    # -- splits and moves -------------------------------------------------------------------

    async def _touched(self, board: Board, applied: list[Total]) -> set[int]:
        """The buckets a batch wrote to (their write rates count toward a split)."""
        # The map the batch committed with: the buckets whose write counters it raised.
        map_ = self._written_maps.get(board.name) or await self._map(board.name)
        if map_ is None:
            return set()
        return {map_.locate(total_key(board, t)).bucket.id for t in applied if t.ranked}

    async def _maybe_split(self, board: str, touched: set[int]) -> None:
        """Split the board's settled buckets that are over a threshold, then even out the
        shards. A bucket in transit is left to its mover, which looks again when it has
        settled: writers never wait for a transit to end."""
        map_ = await self._map(board)
        if map_ is None:
            return
        rates = await self._write_rates(board)
        for _ in range(64):  # a big batch may need a bucket split, then its halves again
            map_, members = await self._members(board, map_)
            hot = [
                b
                for b in map_.buckets
                if map_.settled(b)
                and self.policy.needs_split(members[b.id], rates.get(b.id, 0.0) if b.id in touched else 0.0)
            ]
            if not hot or not await self._start(board, hot[0].id, shard=None):
                break
            rates.pop(hot[0].id, None)  # its writes now spread over the two halves
            next_map = await self._map(board)
            if next_map is None:
                return
            map_ = next_map
        else:  # 64 splits in a row: the last counts predate them
            await self._rebalance(board)
            return
        await self._rebalance(board, known=(map_, members))  # the counts just read: no second count

    async def _members(self, board: str, map_: BucketMap) -> tuple[BucketMap, dict[int, int]]:
        """Members per bucket id, with the map they belong to: a fresh one if the mover
        trimmed a set under the one given."""
        for _ in range(100):
            try:
                return map_, map_.bucket_members((await self._count(board, map_)).members)
            except Trimmed:
                fresh = await self._map(board)
                assert fresh is not None
                map_ = fresh
        raise BackendUnavailable("redis: the bucket map kept changing under a read")

    async def rebalance(self, board: Board, *, max_moves: int = 4) -> int:
        """Start moving whole buckets from the fullest shard to the emptiest while that evens
        them out (a shard just added takes its share); returns how many started."""
        return await self._rebalance(board.name, max_moves=max_moves)

    async def _rebalance(
        self, board: str, *, max_moves: int = 4, known: tuple[BucketMap, dict[int, int]] | None = None
    ) -> int:
        """`known`: the map and members per bucket the caller has just read, for the first step."""
        moved = 0
        for _ in range(max_moves):
            if known is not None:
                map_, members = known
                known = None
            else:
                found = await self._map(board)
                if found is None:
                    return moved
                map_ = found
                map_, members = await self._members(board, map_)
            step = rebalancing_move(map_, members, len(self._shards))
            if step is None or not await self._start(board, step[0].id, shard=step[1]):
                return moved
            moved += 1
        return moved

    async def split(self, board: Board, bucket_id: int) -> bool:
        """Split a settled bucket at its median member: one map change puts the upper half
        in a new bucket on the least-loaded shard, in transit; the mover carries its members
        over. False if the board is locked, the bucket is in transit or has < 2 members."""
        return await self._start(board.name, bucket_id, shard=None)

    async def move_bucket(self, board: Board, bucket_id: int, shard: int) -> bool:
        """Put a settled bucket on another shard: a new bucket there takes its range, in
        transit from the old one's set; the mover carries the members over."""
        return await self._start(board.name, bucket_id, shard=shard)

    async def _start(self, board: str, bucket_id: int, *, shard: int | None) -> bool:
        started = await self._locked(board, lambda: self._start_transit(board, bucket_id, shard))
        if started:
            self._start_mover(board)
        return started

    async def _start_transit(self, board: str, bucket_id: int, shard: int | None) -> bool:
        map_ = await self._map(board)
        bucket = _find(map_, bucket_id)
        if map_ is None or bucket is None or not map_.settled(bucket):
            return False
        if shard is None:
            # Under the lock no writer or mover runs, so no trim can come between these reads.
            counts = await self._count(board, map_)
            index = next(i for i, seg in enumerate(map_.segments()) if seg.bucket.id == bucket_id)
            size = counts.members[index]
            if size < 2:
                return False
            key = names.bucket_key(board, bucket_id)
            at_position = counts.below[index] + size // 2
            client = self._shards[bucket.shard]
            rows: list[Any] = await call(lambda: client.zrange(key, at_position, at_position, withscores=True))
            at = key_from_member(rows[0][1], rows[0][0])
            target = least_loaded(shard_loads(map_, map_.bucket_members(counts.members), len(self._shards)))
            new_map, new = map_.split(bucket, at, target)
        else:
            new_map, new = map_.move(bucket, shard)
        if not await self._set_map(board, map_, new_map):
            return False
        await self._wait_for_replicas({self.home(board)})
        log.info(
            "bucket split" if shard is None else "bucket moving",
            extra={"board": board, "bucket": bucket_id, "new_bucket": new.id, "shard": new.shard},
        )
        return True

    def _start_mover(self, board: str) -> None:
        """Run the background mover for a board with buckets in transit, unless running."""
        if not self._background_mover:
            return
        running = self._movers.get(board)
        if running is None or running.done():
            self._movers[board] = asyncio.create_task(self._mover(board))

    async def _mover(self, board: str) -> None:
        """Carry every transit of the board to its end, a batch at a time; between batches
        the board is unlocked for as long as the batch took, so writes go on."""
        while True:
            try:
                started = time.monotonic()
                if not await self._settle_step(board):
                    return
                await asyncio.sleep(max(0.002, time.monotonic() - started))
            except BackendUnavailable as e:
                log.warning("bucket mover waiting for redis", extra={"board": board, "error": str(e)})
                await asyncio.sleep(1)

    async def _settle_step(self, board: str) -> bool:
        """One mover batch; once nothing is in transit, the splits settling may call for
        (which start new transits). False when the board is settled and needs no split."""
        if await self.move_step(board):
            return True
        await self._maybe_split(board, set())
        map_ = await self._map(board)
        return map_ is not None and bool(map_.in_transit())

    async def resume_moves(self) -> int:
        """Start the movers of every board left in transit (after a restart); returns how many."""
        boards = await call(lambda: self._shards[0].hkeys(names.homes_key()))
        resumed = 0
        for raw in boards:
            name = raw.decode() if isinstance(raw, bytes) else str(raw)
            map_ = await self._map(name)
            if map_ is not None and map_.in_transit():
                self._start_mover(name)
                resumed += 1
        return resumed

    async def move_step(self, board: str) -> bool:
        """One batch of the board's first transit (taking the board's lock); False when no
        bucket is in transit. True also when the lock was busy: try again."""
        map_ = await self._map(board)
        if map_ is None or not map_.in_transit():
            return False
        bucket_id = map_.in_transit()[0].id
        await self._locked(board, lambda: self._carry(board, bucket_id))
        return True

    async def finish_moves(self, board: Board) -> None:
        """Carry every transit of the board to its end now, with the splits that calls for."""
        for _ in range(1_000_000):
            if not await self._settle_step(board.name):
                return
            await asyncio.sleep(0)

    async def _carry(self, board: str, bucket_id: int) -> bool:
        """Under the board's lock: carry the top batch of a bucket's members still in the old
        set into its own, or settle the bucket when none is left."""
        map_ = await self._map(board)
        bucket = _find(map_, bucket_id)
        if map_ is None or bucket is None or bucket.transit is None:
            return False
        transit = bucket.transit
        part = next(s for s in map_.segments() if s.bucket.id == bucket_id and s.set_id == transit.source)
        source = self._shards[transit.source_shard]
        source_key = names.bucket_key(board, transit.source)
        new_epoch = map_.epoch + 1
        # Fence first: a writer whose lease lapsed before the lock can change the old set no
        # more, so no member of the batch read next can change before it is copied.
        await call(lambda: source.set(names.bucket_fence_key(board, transit.source), new_epoch))
        args = [*bound(map_, part.low), *bound(map_, part.high), self._move_batch]
        flat = await call(lambda: self._tail[transit.source_shard](keys=[source_key], args=args))
        rows = list(zip(flat[::2], (float(x) for x in flat[1::2]), strict=True))
        place_keys = [names.bucket_key(board, bucket_id), names.bucket_fence_key(board, bucket_id)]
        place_args: list[str | int | float] = [new_epoch, *bound(map_, part.low), *bound(map_, part.high)]
        for m, score in rows:
            place_args += [m, score]
        stale = await call(lambda: self._place[bucket.shard](keys=place_keys, args=place_args))
        if stale:
            log.warning("dropped copies left by a dead mover", extra={"board": board, "bucket": bucket_id})
        await self._wait_for_replicas({bucket.shard})
        if not rows:
            if not await self._set_map(board, map_, map_.settle(bucket)):
                return False
            if _find(map_, transit.source) is None:  # a whole-bucket move: the old set is done with
                await call(
                    lambda: source.unlink(
                        source_key,
                        names.bucket_fence_key(board, transit.source),
                        names.bucket_trim_key(board, transit.source),
                    )
                )
            await self._wait_for_replicas({self.home(board), transit.source_shard})
            log.info("bucket settled", extra={"board": board, "bucket": bucket_id, "shard": bucket.shard})
            return True
        # The copies lie below the cursor until the map moves it: nobody counts them twice.
        if not await self._set_map(board, map_, map_.advance(bucket, key_from_member(rows[0][1], rows[0][0]))):
            return False  # the copies stay below a cursor that never moved: the next batch finds them

        async def trim() -> None:  # one step, so no reader sees the members gone but not the mark
            async with source.pipeline(transaction=True) as pipe:
                pipe.zrem(source_key, *(m for m, _ in rows))
                pipe.set(names.bucket_trim_key(board, transit.source), new_epoch)
                await pipe.execute()

        await call(trim)
        await self._wait_for_replicas({self.home(board), transit.source_shard})
        return True

    async def _write_rates(self, board: str) -> dict[int, float]:
        """Writes a second per bucket over the last full second."""
        last = int(time.time()) - 1
        home = self._shards[self.home(board)]
        raw = await call(lambda: home.hgetall(names.bucket_writes_key(board, last)))
        return {int(k): float(v) for k, v in raw.items()}

    async def _locked(self, board: str, work: Callable[[], Awaitable[bool]], *, wait_s: float = 5.0) -> bool:
        """Run `work` holding the board's lock, once the writers' leases drained; the lock
        is waited for up to `wait_s` (another process's split or mover batch holds it).
        The lock lives LOCK_TTL_MS and is renewed while held, so a holder that dies
        stops the board's writes for no longer than that."""
        home = await self._home(board, create=False)
        if home is None:
            return False
        shard = self._shards[home]
        lock = names.split_lock_key(board)
        token = f"{self._writer_id}:{uuid.uuid4().hex}"
        deadline = time.monotonic() + wait_s
        while not await call(lambda: shard.set(lock, token, nx=True, px=LOCK_TTL_MS)):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.002)
        self._lock_tokens[board] = token
        renew = asyncio.create_task(self._keep_lock(home, lock, token))
        try:
            deadline = time.monotonic() + self._lease_ms / 1000 + 1
            writers = [names.writers_key(board)]
            while await call(lambda: self._live_leases[home](keys=writers)):
                if time.monotonic() > deadline:
                    return False
                await asyncio.sleep(0.001)
            return await work()
        finally:
            renew.cancel()
            await asyncio.gather(renew, return_exceptions=True)
            if self._lock_tokens.get(board) == token:
                del self._lock_tokens[board]
            await call(lambda: self._unlock[home](keys=[lock], args=[token]))

    async def _keep_lock(self, home: int, lock: str, token: str) -> None:
        """Renew the lock while held. A failed renewal is tried again, not the end of the
        renewing: one dropped connection must not let the lock lapse under a live holder
        (and should it lapse, the holder's map change is refused: see _set_map)."""
        while True:
            await asyncio.sleep(LOCK_TTL_MS / 3000)
            try:
                await call(lambda: self._renew[home](keys=[lock], args=[token, LOCK_TTL_MS]))
            except BackendUnavailable as e:
                log.warning("board lock renewal failed; trying again", extra={"lock": lock, "error": str(e)})

    # -- repair (the reconciler) -------------------------------------------------------------

    async def repair(self, board: Board, users: Mapping[str, Total | None]) -> None:
        if not users:
            return
        await self._home(board.name, create=True)
        if await self._map(board.name) is None:
            await self._create_map(board)
        # Under the board's lock, as the mover: no writer holds a lease, no batch is carried.
        if not await self._locked(board.name, lambda: self._repair(board, users)):
            raise BackendUnavailable(f"redis: board {board.name!r} stayed locked; nothing was repaired")

    async def _repair(self, board: Board, users: Mapping[str, Total | None]) -> bool:
        map_ = await self._map(board.name)
        assert map_ is not None
        ids = list(users)
        # Every member of these users in every set the map reads from: the one the hash
        # names, a dead attempt's pending one, and strays in other buckets alike.
        sets = sorted({(seg.shard, seg.set_id) for seg in map_.segments()})
        found = await asyncio.gather(
            *(
                members_of(self._shards[shard], self._members_of[shard], names.bucket_key(board.name, set_id), ids)
                for shard, set_id in sets
            )
        )
        ops: dict[int, list[tuple[str, str, str, float]]] = defaultdict(list)  # shard → (key, op, member, score)
        for (shard, set_id), members in zip(sets, found, strict=True):
            ops[shard] += [(names.bucket_key(board.name, set_id), "r", m.decode(), 0) for m in members]
        for t in users.values():
            if t is not None and t.ranked:
                where = map_.locate(total_key(board, t))
                key = names.bucket_key(board.name, where.set_id)
                ops[where.shard].append((key, "a", member(board, t), zscore(board.order, t.total)))

        async def change(shard: int, shard_ops: list[tuple[str, str, str, float]]) -> None:
            async def run() -> None:  # removals first: a member already right is added back
                async with self._shards[shard].pipeline(transaction=True) as pipe:
                    for key, op, mem, score in shard_ops:
                        if op == "r":
                            pipe.zrem(key, mem)
                        else:
                            pipe.zadd(key, {mem: score})
                    await pipe.execute()

            await call(run)

        await together(*(change(shard, shard_ops) for shard, shard_ops in ops.items()))
        home = self.home(board.name)

        keys = [
            names.users_key(board.name),
            names.pending_key(board.name),
            names.group_sizes_key(board.name),
            names.groups_key(board.name),
        ]
        args: list[str | int] = [dense_sign(board)]
        for user_id, t in users.items():
            args += [user_id, "" if t is None else state(board, t)]
        if any(t is not None and details(t) for t in users.values()):
            await call(lambda: self._shards[home].set(names.details_flag_key(board.name), 1))
        await call(lambda: self._record[home](keys=keys, args=args))
        await self._changed(board.name)  # still under the lock: no reader kept counts meanwhile
        await self._wait_for_replicas({home, *ops})
        log.info("users repaired", extra={"board": board.name, "users": len(ids), "strays": sum(map(len, found))})
        return True

    # -- reads ------------------------------------------------------------------------------

    async def entry(self, board: Board, user_id: str) -> Entry | None:
        """One script on the home shard, then one on the user's segment's shard if another
        (or, when the kept counts are not good, on every other shard): `index.sharded_reads`."""
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
                name, metadata = st.display()
                return Entry(
                    rank, user_id, st.total, subscore_of(board, key[1]), name, metadata, st.flag == HIDDEN, key
                )
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
        map_ = _decode_map(raw)
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
            map_ = _decode_map(raw_map)
            if map_ is None:
                return [None] * len(users)
            segments = map_.segments()
            number = {id(seg): i for i, seg in enumerate(segments)}
            found: list[tuple[int, State, SortKey, int]] = []  # user index, state, key, segment
            for i, raw in enumerate(raw_states):
                if raw is None:
                    continue
                st = State(raw)
                if st.in_sets or st.flag == HIDDEN:
                    key = key_from_member(zscore(board.order, st.total), st.member)
                    found.append((i, st, key, number[id(map_.locate(key))]))
            on_shard: dict[int, list[int]] = defaultdict(list)
            for i, seg in enumerate(segments):
                on_shard[seg.shard].append(i)

            async def count(shard_no: int, which: list[int]) -> list[int] | None:
                local = {seg_no: j + 1 for j, seg_no in enumerate(which)}
                keys: list[str] = []
                args: list[str | int] = [map_.epoch]
                for i in which:
                    seg = segments[i]
                    keys += [names.bucket_key(board.name, seg.set_id), names.bucket_trim_key(board.name, seg.set_id)]
                    args += [*bound(map_, seg.low), *bound(map_, seg.high)]
                for _, st, key, seg_no in found:
                    if seg_no in local:
                        args += [local[seg_no], key[0], st.member]
                result = await call(lambda: self._counts_and_places[shard_no](keys=keys, args=args))
                return None if result is None else [int(x) for x in result]

            shard_list = list(on_shard)
            results = await asyncio.gather(*(count(s, on_shard[s]) for s in shard_list))
            members = [0] * len(segments)
            position: dict[int, int] = {}  # user index → place in its segment
            for shard_no, result in zip(shard_list, results, strict=True):
                if result is None:
                    raise Trimmed
                which = on_shard[shard_no]
                for j, i in enumerate(which):
                    members[i] = result[2 * j]
                here = set(which)
                placed = iter(result[2 * len(which) :])
                for i, _, _, seg_no in found:
                    if seg_no in here:
                        position[i] = next(placed)
            out: list[Entry | None] = [None] * len(users)
            for i, st, key, seg_no in found:
                name, metadata = st.display()
                rank = map_.rank(members, seg_no, position[i])
                hidden = st.flag == HIDDEN
                out[i] = Entry(rank, users[i], st.total, subscore_of(board, key[1]), name, metadata, hidden, key)
            return out

        return await self._read(read)

    async def count_before(self, board: Board, key: SortKey) -> int:
        async def read() -> int:
            map_ = await self._map(board.name)
            if map_ is None:
                return 0
            segment = map_.segments().index(map_.locate(key))
            counts = await self._count(board.name, map_, (segment, member_of_key(map_, key)), phantom=key)
            return map_.rank(counts.members, segment, counts.position or 0) - 1

        return await self._read(read)

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
        one MULTI (`index.sharded_reads`)."""
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
                kept = self._maps.kept(board.name, plan)
                if kept is not None:
                    # The slices the kept counts call for, read beside the check that they still
                    # hold: one round trip, not two, on a board read more often than written.
                    # Should the check find them stale, the slices are dropped.
                    slices, reads = self._slices(board.name, plan.map, kept.counts, first_rank, count)
                    checked, *guessed = await asyncio.gather(
                        counts_of(self._runners, self._maps, board.name, plan), *reads, return_exceptions=True
                    )
                    if isinstance(checked, BaseException):
                        raise checked
                    counted = checked
                    if counted[0] == "map":
                        self._keep_map(board.name, home, counted[1])
                        continue
                    # A slice the mover trimmed under it: the check may have come first; read again.
                    if failed := [r for r in guessed if isinstance(r, BaseException) and not isinstance(r, Trimmed)]:
                        raise failed[0]
                    results = guessed
                    if counted[1] != kept.counts or any(isinstance(r, Trimmed) for r in guessed):
                        slices, reads = self._slices(board.name, plan.map, counted[1], first_rank, count)
                        results = list(await asyncio.gather(*reads))
                else:
                    counted = await counts_of(self._runners, self._maps, board.name, plan)
                    if counted[0] == "map":
                        self._keep_map(board.name, home, counted[1])
                        continue
                    slices, reads = self._slices(board.name, plan.map, counted[1], first_rank, count)
                    results = list(await asyncio.gather(*reads))
                with_details = counted[2]
                runs = [(s.first_rank, keys_of(rows)) for s, rows in zip(slices, results, strict=True)]
                shown = await self._details(board.name, [k[2] for _, ks in runs for k in ks]) if with_details else {}
                return page_entries(board, runs, shown)
            raise BackendUnavailable("redis: the bucket map kept changing under a read")

        return await self._read(read)

    def _slices(
        self, board: str, map_: BucketMap, members: list[int], first_rank: int, count: int
    ) -> tuple[list[Slice], list[Coroutine[Any, Any, Any]]]:
        """A page's slices under these segment counts, and their reads (not yet awaited)."""
        slices = map_.page(members, first_rank, count)
        reads = [slice_of(self._runners[s.segment.shard], board, map_, s.segment, s.start, s.count) for s in slices]
        return slices, reads

    async def _details(self, board: str, users: list[str]) -> dict[str, tuple[str, str]]:
        if not users:
            return {}
        home = self._shards[self.home(board)]
        raw = await call(lambda: home.hmget(names.users_key(board), users))
        return {u: State(r).display() for u, r in zip(users, raw, strict=True) if r is not None}

    async def count(self, board: Board) -> int:
        async def read() -> int:
            map_ = await self._map(board.name)
            return 0 if map_ is None else sum((await self._count(board.name, map_)).members)

        return await self._read(read)

    async def position(self, board: Board, user_id: str) -> LogPosition | None:
        home = await self._home(board.name, create=False)
        if home is None:
            return None
        shard = self._shards[home]
        raw = await call(lambda: shard.hget(names.users_key(board.name), user_id))
        return parse_state(raw)[4] if raw is not None else None

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

    async def drop(self, board: Board) -> None:
        """Delete every key of the board on every shard (UNLINK: Redis frees big sets in the
        background) and its home; its mover, if running here, stops first."""
        mover = self._movers.pop(board.name, None)
        if mover is not None:
            mover.cancel()
            await asyncio.gather(mover, return_exceptions=True)
        pattern = names.board_keys_pattern(board.name)
        for shard in self._shards:
            await call(lambda: _unlink_matching(shard, pattern))  # noqa: B023 (awaited at once)
        await call(lambda: self._shards[0].hdel(names.homes_key(), board.name))
        self._homes.pop(board.name, None)
        self._written_maps.pop(board.name, None)
        self._maps.forget(board.name)

    async def close(self) -> None:
        for task in self._movers.values():
            task.cancel()
        await asyncio.gather(*self._movers.values(), return_exceptions=True)
        self._movers.clear()
        for shard, runner in zip(self._shards, self._runners, strict=True):
            await runner.close()
            await shard.aclose()


async def _unlink_matching(client: aioredis.Redis, pattern: str) -> None:
    keys = [key async for key in client.scan_iter(match=pattern, count=1000)]
    for i in range(0, len(keys), 1000):
        await client.unlink(*keys[i : i + 1000])


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _version(raw_state: str) -> int:
    """The version in a user's state; -1 for none."""
    return parse_state(raw_state)[0] if raw_state else -1


def _find(map_: BucketMap | None, bucket_id: int) -> Bucket | None:
    return None if map_ is None else next((b for b in map_.buckets if b.id == bucket_id), None)


def _single_batch(board: Board, totals: list[Total]) -> bytes:
    """APPLY_SINGLE's batch: per user [user, version, state, flag, member, score], as JSON
    (one argument, decoded by the script: packing thousands of arguments was most of the
    writer's CPU)."""
    width = tie_width(board)
    desc = board.order is Order.DESC
    rows = []
    for t in totals:
        mem = f"{tiebreak(board, t.subscore, t.reached_at_us):0{width}x}:{t.user_id}"
        rows.append([t.user_id, t.version, state_of(t, mem), flag(t), mem, str(-t.total if desc else t.total)])
    return orjson.dumps(rows)


def _pending(board: Board, t: Total) -> str:
    """What BEGIN records of a write's new member, to find it again: 'score|member'."""
    return "" if not t.ranked else f"{zscore(board.order, t.total)}|{member(board, t)}"


def _decode_map(raw: bytes | str | None) -> BucketMap | None:
    if not raw:
        return None
    return _decode_map_bytes(raw.encode() if isinstance(raw, str) else raw)


@functools.lru_cache(maxsize=256)
def _decode_map_bytes(raw: bytes) -> BucketMap:
    """A map as its JSON: the same bytes, the same (immutable) map, decoded once: every read
    fetches the map, and a board's changes only with a split or a mover's batch."""
    return BucketMap.from_json(orjson.loads(raw))
