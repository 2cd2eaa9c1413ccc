"""The sharded index's splits and moves (design notes §6.2): see the package docstring."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from podium.domain.boards import Board
from podium.domain.buckets import Bucket, BucketMap, least_loaded, rebalancing_move, shard_loads, split_position
from podium.errors import BackendUnavailable
from podium.index.redis import call, key_from_member
from podium.index.sharded.directory import Counted, Directory, bucket_ranges
from podium.index.sharded.read_steps import Trimmed, bound
from podium.plumbing import names
from podium.plumbing.stopping import stop_requested

log = logging.getLogger("podium.index.sharded")


# The board's lock (splits, mover batches) expires unless its holder renews it: a
# holder that dies blocks the board's writers for at most this long.
LOCK_TTL_MS = 3000

# A writer that counted a board's buckets this long ago counts them again after its next batch
# even if its own additions cannot have put a bucket over the threshold: other processes (a
# rebuild, a repair) add members it does not see.
RECOUNT_EVERY_S = 1.0


class Mover(Directory):
    """Splits and moves: a hot bucket split by one map change, and the background mover
    carrying a bucket in transit over a batch at a time, under the board's lock."""

    async def _maybe_split_after(self, board: str, added: Mapping[int, int]) -> None:
        """After a writer's batch that changed each bucket in `added` by that many members
        (added less removed): `_maybe_split`, unless none of those buckets can be over a
        threshold. Counting every segment on every shard after each batch cost the rank shards
        1-2 µs a user and was most of a batch's wait on a settled board. The last count plus
        this process's changes since is the buckets' members while their ranges are the ones
        counted (a split or a move makes a new bucket; a mover's batch carries members within
        one) and no other process writes the board; what others add is counted again within
        RECOUNT_EVERY_S. Rates are read as before (one small read) when the policy has a rate
        threshold at all."""
        if self._under_member_threshold(board, added):
            if self.policy.max_writes_per_s == float("inf"):
                return
            rates = await self._write_rates(board)
            if all(rates.get(b, 0.0) <= self.policy.max_writes_per_s for b in added):
                return
        await self._maybe_split(board, set(added))

    def _under_member_threshold(self, board: str, added: Mapping[int, int]) -> bool:
        """Whether every bucket in `added` is at most the member threshold by the last count
        (recent, its buckets' ranges those of the map this writer last wrote with) and this
        process's changes since, which this adds to it."""
        counted = self._counted.get(board)
        map_ = self._written_maps.get(board)
        if counted is None or map_ is None or counted.ranges != bucket_ranges(map_):
            return False
        if time.monotonic() - counted.at_s >= RECOUNT_EVERY_S:
            return False
        for bucket_id, n in added.items():
            counted.members[bucket_id] = counted.members.get(bucket_id, 0) + n
        return all(counted.members.get(b, 0) <= self.policy.max_members for b in added)

    async def _maybe_split(self, board: str, touched: set[int]) -> None:
        """Split the board's settled buckets that are over a threshold, then even out the
        shards. A bucket in transit is left to its mover, which looks again when it has
        settled: writers never wait for a transit to end."""
        map_ = await self._map(board)
        if map_ is None:
            return
        rates = await self._write_rates(board)
        for _ in range(64):  # a big batch may need a bucket split, then its parts again
            map_, members = await self._members(board, map_)
            hot = [
                b
                for b in map_.buckets
                if map_.settled(b)
                and self.policy.needs_split(members[b.id], rates.get(b.id, 0.0) if b.id in touched else 0.0)
            ]
            if not hot:
                self._counted[board] = Counted(bucket_ranges(map_), dict(members), time.monotonic())
                break
            if not await self._start(board, hot[0].id, shard=None):
                break
            rates.pop(hot[0].id, None)  # its writes now spread over the two parts
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
        """Split a settled bucket (`domain.buckets.split_position`: it keeps three quarters of
        its members): one map change puts the rest in a new bucket on the least-loaded shard,
        in transit; the mover carries its members over. False if the board is locked, the
        bucket is in transit or has < 2 members."""
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
            at_position = counts.below[index] + split_position(size)
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
        the board is unlocked for as long as the batch took, so writes go on. It checks
        for a cancel at each turn too: one can be swallowed (`plumbing.stopping`)."""
        while not stop_requested():
            try:
                started = time.monotonic()
                if not await self._settle_step(board):
                    return
                await asyncio.sleep(max(0.002, time.monotonic() - started))
            except BackendUnavailable as e:
                log.warning("bucket mover waiting for redis", extra={"board": board, "error": str(e)})
                await asyncio.sleep(1)
            except Exception:
                # Not silently: a mover task that died would leave the board in transit
                # until some later write happened to start another.
                log.exception("bucket mover failed; trying again", extra={"board": board})
                await asyncio.sleep(1)

    async def _settle_step(self, board: str) -> bool:
        """One mover batch; once nothing is in transit, the splits settling may call for
        (which start new transits). False when the board is settled and needs no split."""
        if await self.move_step(board):
            return True
        if stop_requested():
            return False  # no new split for a mover asked to stop (its board may be going)
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
        while not stop_requested():  # its holder awaits it after the cancel: it must end
            await asyncio.sleep(LOCK_TTL_MS / 3000)
            try:
                await call(lambda: self._renew[home](keys=[lock], args=[token, LOCK_TTL_MS]))
            except BackendUnavailable as e:
                log.warning("board lock renewal failed; trying again", extra={"lock": lock, "error": str(e)})


def _find(map_: BucketMap | None, bucket_id: int) -> Bucket | None:
    return None if map_ is None else next((b for b in map_.buckets if b.id == bucket_id), None)
