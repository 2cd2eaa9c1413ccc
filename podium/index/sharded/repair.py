"""The sharded index's repair (the reconciler): whatever members and states some users
have in the index, make them what the store says, under the board's lock as the mover."""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Mapping

from podium.domain.boards import Board
from podium.domain.ordering import total_key
from podium.domain.totals import Total
from podium.errors import BackendUnavailable
from podium.index.redis import call, details, member, members_of, state, zscore
from podium.index.sharded.directory import dense_sign
from podium.index.sharded.mover import Mover
from podium.plumbing import names
from podium.plumbing.together import together

log = logging.getLogger("podium.index.sharded")


class Repair(Mover):
    """The reconciler's repair of users the index holds wrong, under the board's lock."""

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
        # names, one a dead attempt's intent names, and strays in other buckets alike.
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
