"""Generations of a board's rank index, so a rebuild can refill it while it serves.

A board's index is stored under a generation (`names.generation_board`: the board's
own name for generation 0, `board~g<N>` after). A small record per board says which
generation is current and which, if any, is being rebuilt. A rebuild:
  1. marks a new generation as rebuilding; from then on every apply writes to both
     (the record is read afresh by each write, so nothing applied during the
     rebuild is missed);
  2. fills the new generation from the store — versions make the double writes and
     the store's copy agree, whatever order they arrive in;
  3. swaps: readers and writers move to the new generation in one record change;
  4. after a grace period (readers caching the record, a write already under way)
     drops the old generation's keys.

`GenerationalRankIndex` wraps any adapter and maps each logical board to its storage
board in this one place; the adapters only learn to `drop` a storage board.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from podium.domain.boards import Board
from podium.domain.ordering import SortKey
from podium.domain.totals import LogPosition, Total
from podium.errors import Conflict
from podium.index.base import BucketInfo, Entry, RankIndex
from podium.plumbing import names

if TYPE_CHECKING:
    import redis.asyncio as aioredis


class RebuildRunning(Conflict):
    code = "rebuild_running"


class DroppableRankIndex(RankIndex, Protocol):
    async def drop(self, board: Board) -> None:
        """Delete everything the index holds for `board` (a storage board)."""
        ...


@dataclasses.dataclass(frozen=True, slots=True)
class Record:
    current: int = 0
    rebuilding: int | None = None
    last: int = 0  # the highest generation ever used: a new one never reuses old keys


class Generations(Protocol):
    """Where the per-board generation record lives."""

    async def read(self, board: str) -> Record: ...

    async def begin(self, board: str) -> Record | None:
        """Mark a new generation rebuilding; None if one already is (see the record)."""
        ...

    async def swap(self, board: str, generation: int) -> int | None:
        """Make the rebuilding `generation` current; returns the old current one, or None
        if `generation` is not the one rebuilding (abandoned meanwhile)."""
        ...

    async def abandon(self, board: str, generation: int) -> bool:
        """Stop rebuilding `generation`; False if it was not the one rebuilding."""
        ...

    async def close(self) -> None: ...


class MemoryGenerations:
    """For the embedded index: the records live in the process, like the index."""

    def __init__(self) -> None:
        self._records: dict[str, Record] = {}

    async def read(self, board: str) -> Record:
        return self._records.get(board, Record())

    async def begin(self, board: str) -> Record | None:
        r = await self.read(board)
        if r.rebuilding is not None:
            return None
        self._records[board] = new = Record(r.current, r.last + 1, r.last + 1)
        return new

    async def swap(self, board: str, generation: int) -> int | None:
        r = await self.read(board)
        if r.rebuilding != generation:
            return None
        self._records[board] = Record(generation, None, r.last)
        return r.current

    async def abandon(self, board: str, generation: int) -> bool:
        r = await self.read(board)
        if r.rebuilding != generation:
            return False
        self._records[board] = Record(r.current, None, r.last)
        return True

    async def close(self) -> None:
        return None


# KEYS: the generations hash. ARGV: board, 'begin' | 'swap' | 'abandon', generation.
# Returns {ok, current, rebuilding (-1: none), last, the current one before}.
CHANGE = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
local cur, reb, last = 0, -1, 0
if raw then
  local a, b, c = string.match(raw, '^(%d+)|(%-?%d+)|(%d+)$')
  cur, reb, last = tonumber(a), tonumber(b), tonumber(c)
end
local before, op, gen = cur, ARGV[2], tonumber(ARGV[3])
if op == 'begin' then
  if reb >= 0 then return {0, cur, reb, last, before} end
  last = last + 1
  reb = last
else
  if reb ~= gen then return {0, cur, reb, last, before} end
  if op == 'swap' then cur = reb end
  reb = -1
end
redis.call('HSET', KEYS[1], ARGV[1], cur .. '|' .. reb .. '|' .. last)
return {1, cur, reb, last, before}
"""


def _record(cur: int, reb: int, last: int) -> Record:
    return Record(cur, None if reb < 0 else reb, last)


class RedisGenerations:
    """For the Redis indexes: one hash on the first shard, changed by one script at a time."""

    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client
        self._change = client.register_script(CHANGE)

    async def read(self, board: str) -> Record:
        from podium.index.redis import call

        raw = await call(lambda: self._redis.hget(names.generations_key(), board))
        if raw is None:
            return Record()
        text = raw.decode() if isinstance(raw, bytes) else str(raw)
        cur, reb, last = (int(x) for x in text.split("|"))
        return _record(cur, reb, last)

    async def _run(self, board: str, op: str, generation: int) -> tuple[bool, Record, int]:
        from podium.index.redis import call

        keys = [names.generations_key()]
        ok, cur, reb, last, before = await call(lambda: self._change(keys=keys, args=[board, op, generation]))
        return bool(ok), _record(int(cur), int(reb), int(last)), int(before)

    async def begin(self, board: str) -> Record | None:
        ok, record, _ = await self._run(board, "begin", -1)
        return record if ok else None

    async def swap(self, board: str, generation: int) -> int | None:
        ok, _, before = await self._run(board, "swap", generation)
        return before if ok else None

    async def abandon(self, board: str, generation: int) -> bool:
        ok, _, _ = await self._run(board, "abandon", generation)
        return ok

    async def close(self) -> None:
        await self._redis.aclose()


class GenerationalRankIndex:
    """A rank index whose boards can be rebuilt under a new generation while serving.

    `read_cache_s`: how long a reader may use the record it read (0: every read asks;
    the Redis profile caches it briefly, as every read would otherwise cost a round trip
    more). Writers always ask afresh. `drop_grace_s` must exceed it."""

    def __init__(
        self,
        inner: DroppableRankIndex,
        generations: Generations,
        *,
        read_cache_s: float = 0.0,
        drop_grace_s: float = 0.0,
    ) -> None:
        self.inner = inner
        self.generations = generations
        self.read_cache_s = read_cache_s
        self.drop_grace_s = drop_grace_s
        self._read_cache: dict[str, tuple[float, int]] = {}
        self._asking: dict[str, asyncio.Future[Record]] = {}

    @staticmethod
    def storage(board: Board, generation: int) -> Board:
        """The storage board of `board`'s index in `generation`: the one place they are mapped."""
        return dataclasses.replace(board, name=names.generation_board(board.name, generation))

    async def _reading(self, board: Board) -> Board:
        cached = self._read_cache.get(board.name)
        if cached is not None and cached[0] > time.monotonic():
            return self.storage(board, cached[1])
        if self.read_cache_s <= 0:
            return self.storage(board, (await self.generations.read(board.name)).current)
        # Many readers at once (wait=true on a batch polls per user) share one ask.
        asking = self._asking.get(board.name)
        if asking is None:
            asking = self._asking[board.name] = asyncio.ensure_future(self.generations.read(board.name))
            asking.add_done_callback(lambda _: self._asking.pop(board.name, None))
        current = (await asyncio.shield(asking)).current
        self._read_cache[board.name] = (time.monotonic() + self.read_cache_s, current)
        return self.storage(board, current)

    # -- the rank index port ----------------------------------------------------------------

    async def apply(self, board: Board, totals: Sequence[Total]) -> list[Total]:
        return (await self._apply(board, totals, ranks=False))[0]

    async def apply_ranked(self, board: Board, totals: Sequence[Total]) -> tuple[list[Total], dict[str, int]]:
        return await self._apply(board, totals, ranks=True)

    async def _apply(self, board: Board, totals: Sequence[Total], *, ranks: bool) -> tuple[list[Total], dict[str, int]]:
        record = await self.generations.read(board.name)
        current = self.storage(board, record.current)
        if ranks:  # the ranks of the generation written, the one readers read
            applied, ranked = await self.inner.apply_ranked(current, totals)
        else:
            applied, ranked = await self.inner.apply(current, totals), {}
        if record.rebuilding is not None:
            # The rebuild may have read these users from the store before this change.
            await self.inner.apply(self.storage(board, record.rebuilding), totals)
        return applied, ranked

    async def repair(self, board: Board, users: Mapping[str, Total | None]) -> None:
        record = await self.generations.read(board.name)
        await self.inner.repair(self.storage(board, record.current), users)
        if record.rebuilding is not None:  # as apply: the rebuild may have read them before
            await self.inner.repair(self.storage(board, record.rebuilding), users)

    async def entry(self, board: Board, user_id: str) -> Entry | None:
        return await self.inner.entry(await self._reading(board), user_id)

    async def entries(self, board: Board, user_ids: Sequence[str]) -> list[Entry | None]:
        return await self.inner.entries(await self._reading(board), user_ids)

    async def unplaced(self, board: Board, user_ids: Sequence[str]) -> list[Entry | None]:
        return await self.inner.unplaced(await self._reading(board), user_ids)

    async def page(self, board: Board, first_rank: int, count: int) -> list[Entry]:
        return await self.inner.page(await self._reading(board), first_rank, count)

    async def count(self, board: Board) -> int:
        return await self.inner.count(await self._reading(board))

    async def count_before(self, board: Board, key: SortKey) -> int:
        return await self.inner.count_before(await self._reading(board), key)

    async def counts_before(self, board: Board, keys: Sequence[SortKey]) -> list[int]:
        return await self.inner.counts_before(await self._reading(board), keys)

    async def groups_before(self, board: Board, key: SortKey) -> int:
        return await self.inner.groups_before(await self._reading(board), key)

    async def position(self, board: Board, user_id: str) -> LogPosition | None:
        return await self.inner.position(await self._reading(board), user_id)

    async def positions(self, board: Board, user_ids: Sequence[str]) -> list[LogPosition | None]:
        return await self.inner.positions(await self._reading(board), user_ids)

    async def newest(self, board: Board, user_id: str) -> tuple[LogPosition, int] | None:
        return await self.inner.newest(await self._reading(board), user_id)

    async def buckets(self, board: Board) -> list[BucketInfo]:
        return await self.inner.buckets(await self._reading(board))

    async def close(self) -> None:
        await self.inner.close()
        await self.generations.close()

    # -- rebuilds ---------------------------------------------------------------------------

    async def begin_rebuild(self, board: Board, *, force: bool = False) -> int:
        """Start rebuilding `board` under a new generation; returns it. A rebuild already
        under way is a conflict, unless `force` (its process died): then it is abandoned."""
        record = await self.generations.begin(board.name)
        if record is None and force:
            stale = (await self.generations.read(board.name)).rebuilding
            if stale is not None and await self.generations.abandon(board.name, stale):
                await self.inner.drop(self.storage(board, stale))
            record = await self.generations.begin(board.name)
        if record is None or record.rebuilding is None:
            raise RebuildRunning(f"board {board.name!r} is being rebuilt already")
        return record.rebuilding

    async def fill(self, board: Board, generation: int, totals: Sequence[Total]) -> list[Total]:
        """Apply totals read from the store into the generation being rebuilt."""
        return await self.inner.apply(self.storage(board, generation), totals)

    async def swap(self, board: Board, generation: int) -> int | None:
        """Make `generation` current; returns the old one, to drop after `drop_grace_s`
        (None: the rebuild was abandoned meanwhile)."""
        old = await self.generations.swap(board.name, generation)
        self._read_cache.pop(board.name, None)
        return old

    async def abandon(self, board: Board, generation: int) -> None:
        """Give up rebuilding `generation` and drop what it holds."""
        if await self.generations.abandon(board.name, generation):
            await self.inner.drop(self.storage(board, generation))

    async def drop_board(self, board: Board) -> None:
        """Delete everything held for the board, in every generation in use (a deleted board)."""
        record = await self.generations.read(board.name)
        for generation in {record.current, record.rebuilding} - {None}:
            assert generation is not None
            await self.inner.drop(self.storage(board, generation))
        self._read_cache.pop(board.name, None)

    async def drop(self, board: Board, generation: int) -> None:
        """Delete a generation that is neither current nor rebuilding (the old one, after a swap)."""
        record = await self.generations.read(board.name)
        if generation in (record.current, record.rebuilding):
            raise RebuildRunning(f"generation {generation} of board {board.name!r} is in use")
        await self.inner.drop(self.storage(board, generation))
