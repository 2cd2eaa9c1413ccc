"""The sharded index's plumbing: its shards, the scripts registered on them, each board's
home shard (the directory on the first shard) and bucket map, and counts by segment."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
import uuid
import zlib
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import orjson

from podium.domain.boards import Board, Order, Tie
from podium.domain.buckets import BucketMap, SplitPolicy
from podium.domain.ordering import SortKey, tie_width
from podium.errors import BackendUnavailable
from podium.index.redis import MEMBERS_OF, ReadOnlyReplica, call, wait_for_replicas
from podium.index.script_runner import ScriptRunner
from podium.index.sharded.read_steps import Maps, Trimmed, segments_counted
from podium.index.sharded.scripts import source
from podium.plumbing import names

if TYPE_CHECKING:
    import redis.asyncio as aioredis


log = logging.getLogger("podium.index.sharded")

_T = TypeVar("_T")


POOL_SIZE = 200  # connections per shard and process
SOCKET_TIMEOUT_S = 5.0  # a call to a shard that does not answer (as the Sentinel clients in bootstrap.py)


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


# Members the mover carries a batch, under the board's lock. Each batch costs a few script
# calls, map changes and WAITs whatever its size; 5,000 rather than 1,000 took the primaries'
# CPU for 100,000 new users on 16 buckets from 19.7-22.7 to 15.8-17.4 us a user (three
# interleaved pairs), for a lock held some ms longer a batch (writers wait that long).
MOVE_BATCH = 5000


class Directory:
    """The index's shards, their scripts and connections, and each board's home and map:
    what the writer, the mover, the repair and the reads all stand on."""

    def __init__(
        self,
        shards: Sequence[aioredis.Redis],
        *,
        policy: SplitPolicy | None = None,
        wait_replicas: int = 0,
        wait_timeout_ms: int = 1000,
        lease_ms: int = 10_000,
        move_batch: int = MOVE_BATCH,
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
        self._begin = [s.register_script(source("begin")) for s in self._shards]
        self._move_script = [s.register_script(source("move")) for s in self._shards]
        self._commit = [s.register_script(source("commit")) for s in self._shards]
        self._apply_single_script = [s.register_script(source("apply_single")) for s in self._shards]
        self._counts = [s.register_script(source("counts")) for s in self._shards]
        self._counts_and_places = [s.register_script(source("counts_and_places")) for s in self._shards]
        self._tail = [s.register_script(source("tail")) for s in self._shards]
        self._place = [s.register_script(source("place")) for s in self._shards]
        self._live_leases = [s.register_script(source("live_leases")) for s in self._shards]
        self._renew = [s.register_script(source("renew")) for s in self._shards]
        self._unlock = [s.register_script(source("unlock")) for s in self._shards]
        self._set_map_script = [s.register_script(source("set_map")) for s in self._shards]
        # The token of each board's lock while this process holds it: one per hold, so a
        # hold that outlived its lock cannot renew, release or write under the next one's.
        self._lock_tokens: dict[str, str] = {}
        self._members_of = [s.register_script(MEMBERS_OF) for s in self._shards]
        self._record = [s.register_script(source("record")) for s in self._shards]
        self._groups_before = [s.register_script(source("groups_before")) for s in self._shards]
        self._changed_script = [s.register_script(source("changed")) for s in self._shards]
        self._details_flagged: set[str] = set()
        # Each board's map as this writer's last batch saw it: whether the next batch may
        # take the single-bucket path (the script checks the map is still that one).
        self._written_maps: dict[str, BucketMap] = {}
        # Each board's members per bucket as this process last counted them (for a split
        # check), with the buckets' ranges then and when: see Mover._maybe_split_after.
        self._counted: dict[str, Counted] = {}
        self.single_bucket_path = True  # tests turn it off to drive the general path
        self._runners = [ScriptRunner(s, POOL_SIZE) for s in self._shards]  # the reads' connections
        self._maps = Maps()  # each board's map as the reads last found it

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
                try:
                    await call(lambda: directory.hsetnx(names.homes_key(), board, guess))
                except ReadOnlyReplica:
                    # A region's replicas (docs/global.md): shard 0's has not caught up with the
                    # home the writer recorded before it made the map found here. Not cached.
                    return guess
            else:
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
        return decode_map(await call(lambda: self._shards[home].get(key)))

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
            keys, args = segments_counted(board, map_, segments, which)
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

    async def _changed(self, board: str) -> None:
        """Members changed outside a writer's lease: raise the board's change number."""
        home = self.home(board)
        await call(lambda: self._changed_script[home](keys=[names.board_changes_key(board)]))

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

    async def _write_rates(self, board: str) -> dict[int, float]:
        """Writes a second per bucket over the last full second."""
        last = int(time.time()) - 1
        home = self._shards[self.home(board)]
        raw = await call(lambda: home.hgetall(names.bucket_writes_key(board, last)))
        return {int(k): float(v) for k, v in raw.items()}


@dataclass(slots=True)
class Counted:
    """A board's members per bucket id as last counted, at `at_s` (monotonic), under a map
    whose buckets were `ranges` (each bucket's id and lower key), plus what this process's
    batches added and removed since."""

    ranges: tuple[tuple[int, SortKey | None], ...]
    members: dict[int, int]
    at_s: float


def bucket_ranges(map_: BucketMap) -> tuple[tuple[int, SortKey | None], ...]:
    """Each bucket's id and lower key: what decides which bucket a member belongs to. A
    mover's batch changes the map (a transit's cursor, its end) but not these: it carries
    members between the two sets of one bucket."""
    return tuple((b.id, b.lower) for b in map_.buckets)


def decode_map(raw: bytes | str | None) -> BucketMap | None:
    if not raw:
        return None
    return _decode_map_bytes(raw.encode() if isinstance(raw, str) else raw)


@functools.lru_cache(maxsize=256)
def _decode_map_bytes(raw: bytes) -> BucketMap:
    """A map as its JSON: the same bytes, the same (immutable) map, decoded once: every read
    fetches the map, and a board's changes only with a split or a mover's batch."""
    return BucketMap.from_json(orjson.loads(raw))
