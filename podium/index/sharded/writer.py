"""The sharded index's writes (the rank-worker), per batch: see the package docstring."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import orjson

from podium.domain.boards import Board, Order
from podium.domain.buckets import BucketMap
from podium.domain.ordering import tie_width, tiebreak, total_key
from podium.domain.totals import Total, newest_per_user
from podium.errors import BackendUnavailable
from podium.index.redis import call, details, flag, key_from_member, member, parse_state, state_of, zscore
from podium.index.sharded.directory import decode_map, dense_sign
from podium.index.sharded.mover import Mover
from podium.index.sharded.reads import Reads
from podium.plumbing import names
from podium.plumbing.together import together

if TYPE_CHECKING:
    import redis.asyncio as aioredis

log = logging.getLogger("podium.index.sharded")


class StaleMap(Exception):
    """A set refused a write: the mover started on it after this writer read the map."""


class Writer(Mover, Reads):
    """The rank-worker's writes: one script for a board of one settled bucket on its home
    shard, else begin, move per shard, commit."""

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
            names.intents_key(board.name),
            names.bucket_key(board.name, bucket.id),
            names.bucket_fence_key(board.name, bucket.id),
            names.bucket_writes_key(board.name, now_s),
            names.bucket_writes_key(board.name, now_s - 1),
            names.group_sizes_key(board.name),
            names.groups_key(board.name),
            names.board_changes_key(board.name),
            names.writers_key(board.name),
        ]
        args: list[str | int | bytes] = [map_.epoch, bucket.id, dense_sign(board), "1" if ranks else ""]
        args += [_single_batch(board, totals), self._writer_id, "-1" if board.order is Order.DESC else "1"]
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
        added: Counter[int] = Counter()  # members added less removed, per bucket written
        for attempt in range(300):
            result = await self._apply_once(board, newest)
            if result is None:
                await asyncio.sleep(min(0.001 * 2**attempt, 0.05))  # the board is locked: wait
                continue
            applied, newest, buckets = result
            done += applied
            tried_again += newest
            added.update(buckets)
            if not newest:
                if overtaken := [t for t in tried_again if t not in done]:
                    # A third writer got ahead while we tried again: our member is a stray now.
                    await self._drop_refused(board, overtaken, await self._states(board.name, overtaken))
                await self._maybe_split_after(board.name, added)
                return done
        raise BackendUnavailable(f"redis: board {board.name!r} stayed locked")

    async def _states(self, board: str, totals: list[Total]) -> dict[str, str]:
        home = self._shards[self.home(board)]
        users = [t.user_id for t in totals]
        raw = await call(lambda: home.hmget(names.users_key(board), users))
        return {u: _text(r) if r is not None else "" for u, r in zip(users, raw, strict=True)}

    async def _apply_once(
        self, board: Board, totals: list[Total]
    ) -> tuple[list[Total], list[Total], Counter[int]] | None:
        """One attempt: None to retry it whole; else the totals applied, those to try again
        (another writer committed an older total for their users meanwhile), and per
        bucket written the members added less those removed."""
        home = await self._home(board.name, create=True)
        assert home is not None
        keys = [
            names.split_lock_key(board.name),
            names.writers_key(board.name),
            names.users_key(board.name),
            names.bucket_map_key(board.name),
            names.intents_key(board.name),
            names.board_changes_key(board.name),
        ]
        # Each user's new member once: BEGIN's intent, the MOVE and the state all name it.
        # (A hidden user's state keeps one too, for its own view of its rank.)
        members = [member(board, t) for t in totals]
        # Per user one JSON row, not three arguments: packing them was most of the writer's CPU.
        # The third item is what BEGIN records of a new member, to find it again: 'score|member'.
        rows = [
            [t.user_id, t.version, f"{zscore(board.order, t.total)}|{m}" if t.ranked else ""]
            for t, m in zip(totals, members, strict=True)
        ]
        # The intent is stored as JSON, read back only by a cleanup; the script reads the users
        # from their own argument, a line each (see each.lua): decoding the JSON cost more.
        users = "\n".join(t.user_id for t in totals)
        args: list[str | int | bytes] = [self._writer_id, self._lease_ms, orjson.dumps(rows), users]
        await self._flag_details(board, totals, home)
        begun = await call(lambda: self._begin[home](keys=keys, args=args))
        if begun is None:
            return None  # the board is locked
        if begun == 0:  # an attempt that never committed left its intent: clean it, begin again
            await self._locked(board.name, lambda: self._clean_intents(board))
            return None
        started = time.monotonic()
        map_ = decode_map(begun[0])
        if map_ is not None:
            self._written_maps[board.name] = map_
        else:
            await self._release(board.name)
            await self._create_map(board)
            return None
        moves: dict[int, list[tuple[int, str, str, float]]] = defaultdict(list)  # shard → (set, op, member, score)
        commit_rows: list[str] = []  # rows, as each.lua says
        applied: list[Total] = []
        touched: Counter[int] = Counter()
        for t, mem, raw in zip(totals, members, begun[1], strict=True):
            current = parse_state(raw, t.user_id) if raw else None
            if current is not None and current[0] >= t.version:
                continue  # not newer: a duplicate or a reordered change
            if current is not None and not current[1]:
                _, _, old_member, old_total = current
                old = map_.locate(key_from_member(zscore(board.order, old_total), old_member))
                moves[old.shard].append((old.set_id, "r", old_member, 0))
                touched[old.bucket.id] -= 1
            bucket_id = ""
            if t.ranked:
                new = map_.locate(total_key(board, t))
                moves[new.shard].append((new.set_id, "a", mem, zscore(board.order, t.total)))
                touched[new.bucket.id] += 1
                bucket_id = str(new.bucket.id)
            expected = current[0] if current is not None else -1
            commit_rows.append(f"{t.user_id}\t{expected}\t{bucket_id}\t{state_of(t, mem)}")
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
            names.intents_key(board.name),
            names.group_sizes_key(board.name),
            names.groups_key(board.name),
            names.board_changes_key(board.name),
        ]
        commit_args: list[str | int | bytes] = [self._writer_id, map_.epoch, dense_sign(board)]
        # BEGIN's change number, if this writer was alone: the commit then trusts the states it read.
        commit_args += ["\n".join(commit_rows), begun[2]]
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
        return applied, again, touched

    async def _clean_intents(self, board: Board) -> bool:
        """Under the board's lock (no writer holds a lease, the mover is not at a batch): take
        out every member an uncommitted attempt's intent names that its user's state does not
        (the attempt died, or its commit was refused, between moving members and committing),
        then forget the intents. Under the lock because a state read and a removal on another
        shard are two steps: a writer committing the same member between them must not lose it."""
        home = self._shards[self.home(board.name)]
        key = names.intents_key(board.name)
        intents: dict[bytes | str, bytes | str] = await call(lambda: home.hgetall(key))
        map_ = await self._map(board.name)
        if not intents or map_ is None:
            return True
        recorded = [(str(u), str(p)) for raw in intents.values() for u, _, p in orjson.loads(raw) if p]
        users = [u for u, _ in recorded]
        raw_states = await call(lambda: home.hmget(names.users_key(board.name), users)) if users else []
        ops: dict[int, list[tuple[int, str, str, float]]] = defaultdict(list)
        for (user, pending), raw in zip(recorded, raw_states, strict=True):
            score, _, stray = pending.partition("|")
            current = parse_state(raw, user) if raw else None
            if current is not None and not current[1] and current[2] == stray:
                own = zscore(board.order, current[3])
                if float(own) == float(score):
                    continue  # committed: the member is the user's own
                # The user's own member, but written with another total (two writers with
                # the same version): put it back where and as the state says.
                where = map_.locate(key_from_member(own, stray))
                ops[where.shard].append((where.set_id, "a", stray, own))
            where = map_.locate(key_from_member(float(score), stray))
            ops[where.shard].append((where.set_id, "r", stray, 0))
        try:
            await together(*(self._move(board.name, s, map_.epoch, shard_ops) for s, shard_ops in ops.items()))
        except StaleMap:
            # A fence above the map under the lock: a mover died before its map change.
            await self._lower_fences(board.name, map_)
            return False  # the writer begins again, and finds the intents again
        await call(lambda: home.hdel(key, *intents))
        if ops:
            log.warning("took out members of attempts that never committed", extra={"board": board.name})
            await self._changed(board.name)  # outside a lease: readers' kept counts are off
            await self._wait_for_replicas({self.home(board.name), *ops})
        return True

    async def _drop_refused(self, board: Board, lost: list[Total], winners: Mapping[str, str]) -> None:
        """Take back the members a writer added for users another writer committed first,
        and put the winner's member back as its state says. A member is a user's tie and
        id, so both writers may have named the same string: the loser's MOVE may have
        removed the winner's new entry as the user's old one (both read the same old
        state), or written its own score over it. (A third writer committing after the
        winner meanwhile would find the winner's member put back beside its own: the
        reconcile repairs that; two writers on one user is a rebuild beside the worker.)"""
        for _ in range(10):
            map_ = await self._map(board.name)
            if map_ is None:
                return
            ops: dict[int, list[tuple[int, str, str, float]]] = defaultdict(list)
            for t in lost:
                winner = parse_state(winners[t.user_id], t.user_id) if winners[t.user_id] else None
                theirs = None
                if winner is not None and not winner[1]:
                    score = zscore(board.order, winner[3])
                    place = map_.locate(key_from_member(score, winner[2]))
                    theirs = (place.shard, place.set_id, winner[2], score)
                if t.ranked:
                    ours = map_.locate(total_key(board, t))
                    mine = member(board, t)
                    if theirs is None or (ours.set_id, mine) != (theirs[1], theirs[2]):
                        ops[ours.shard].append((ours.set_id, "r", mine, 0))
                if theirs is not None:
                    ops[theirs[0]].append((theirs[1], "a", theirs[2], theirs[3]))
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
        await self._lower_fences(board, map_)

    async def _lower_fences(self, board: str, map_: BucketMap) -> None:
        for seg in map_.segments():
            await self._lower_fence(self._shards[seg.shard], names.bucket_fence_key(board, seg.set_id), map_.epoch)

    async def _lower_fence(self, client: aioredis.Redis, key: str, epoch: int) -> None:
        fence = await call(lambda: client.get(key))
        if fence is not None and int(fence) > epoch:
            log.warning("lowering a fence left by a dead mover", extra={"fence": key})
            await call(lambda: client.set(key, epoch))

    async def _release(self, board: str) -> None:
        shard = self._shards[self.home(board)]
        await call(lambda: shard.zrem(names.writers_key(board), self._writer_id))

    async def _move(self, board: str, shard: int, epoch: int, ops: list[tuple[int, str, str, float]]) -> None:
        sets: dict[int, int] = {}  # set id → its place among the script's sets, from 1
        rows = "\n".join(
            f"{sets.setdefault(set_id, len(sets) + 1)}\t{op}\t{score}\t{mem}" for set_id, op, mem, score in ops
        )
        keys = [names.bucket_key(board, s) for s in sets] + [names.bucket_fence_key(board, s) for s in sets]
        args: list[str | int | bytes] = [epoch, rows]
        if not await call(lambda: self._move_script[shard](keys=keys, args=args)):
            raise StaleMap


def _text(raw: bytes | str) -> str:
    return raw.decode() if isinstance(raw, bytes) else raw


def _version(raw_state: str) -> int:
    """The version in a user's state; -1 for none."""
    return int(raw_state.partition("|")[0]) if raw_state else -1


def _single_batch(board: Board, totals: list[Total]) -> str:
    """APPLY_SINGLE's batch: per user user, version, flag, score, member, state, as rows (one
    argument, read by the script as each.lua says: packing thousands of arguments was most of
    the writer's CPU, and decoding JSON most of the script's own)."""
    width = tie_width(board)
    desc = board.order is Order.DESC
    rows = []
    for t in totals:
        mem = f"{tiebreak(board, t.subscore, t.reached_at_us):0{width}x}:{t.user_id}"
        score = -t.total if desc else t.total
        rows.append(f"{t.user_id}\t{t.version}\t{flag(t)}\t{score}\t{mem}\t{state_of(t, mem)}")
    return "\n".join(rows)
