"""The social shards in the bench: their Redis CPU per applied score, and a friends board's
read against the plain sorted-set read under it.

- `social_fanout_redis_cpu_us_per_score`: the social shards' Redis CPU (INFO cpu, user +
  sys, summed over the shards) per score applied, on a friend graph of about 50 friends a
  user with a few users followed by nearly everyone (more than 10,000 in a full run: over
  the fan-out cap, read at query time). Baseline: the same fan-out as a Redis Cluster would
  have to send it — a script there may touch one slot only, and every follower's board is
  a slot of its own — so as commands, pipelined per shard (HMGET/SMEMBERS, then ZREM/ZADD
  per follower and HSET). The ratio is ours ÷ that: below 1, one script a shard costs the
  shards less than Cluster's commands would.
- `friends_board_query_vs_zrevrange`: the p50 of `friends_board(board, user, 10)` through
  the sharded index, ÷ the p50 of a ZRANGE of 10 on the user's precomputed board.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Sequence
from typing import Any

from podium.domain.boards import Board
from podium.domain.totals import LogPosition, Total
from podium.index.redis import member, zscore
from podium.plumbing import names
from podium.social.placement import shard_label
from podium.social.redis import state_of
from podium.social.sharded import ShardedSocialIndex
from podium.tools.bench import Figure, measured, percentile
from podium.tools.bench.progress import Progress

BATCH = 500  # the rank-worker's batch
FAN_OUT_CAP = 10_000  # the default setting


async def run(
    urls: Sequence[str], *, users: int, scores: int, probes: int, progress: Progress | None = None
) -> list[Figure]:
    import redis.asyncio as aioredis

    clients = [aioredis.Redis.from_url(u) for u in urls]
    social = ShardedSocialIndex.over(clients, [shard_label(u) for u in urls], fan_out_cap=FAN_OUT_CAP)
    run_id = uuid.uuid4().hex[:6]
    rng = random.Random(18)
    ids = [f"bs{i}-{run_id}" for i in range(users)]
    stars = ids[:3]
    star_share = min(1.0, 10_500 / users)  # more than 10,000 followers when there are users enough
    try:
        if progress is not None:
            progress.update(0.0, "friend graph")
        friends = 0
        for first in range(0, users, 32):
            lists = []
            for u in ids[first : first + 32]:
                mine = set(rng.sample(ids, rng.randrange(25, 76))) | {s for s in stars if rng.random() < star_share}
                mine.discard(u)
                lists.append((u, sorted(mine)))
                friends += len(mine)
            await asyncio.gather(*(social.replace_friends(u, f) for u, f in lists))
        followers = [len(await social.followers(s)) for s in stars]
        ours = await _cpu_per_score(
            clients, scores, ids, rng, lambda b, batch: social.apply(b, batch), progress, "one script a shard"
        )
        theirs = await _cpu_per_score(
            clients, scores, ids, rng, lambda b, batch: _pipelined_apply(clients, b, batch), progress, "commands"
        )
        board, read_ms, raw_ms = await _reads(social, ids, rng, probes, progress)
    finally:
        await social.close()
    return [
        measured(
            "social_fanout_redis_cpu_us_per_score",
            ours,
            "µs",
            theirs,
            shards=len(urls),
            users=users,
            mean_friends=round(friends / users, 1),
            star_followers=followers,
            fan_out_cap=FAN_OUT_CAP,
            scores=scores,
            baseline_is="the same fan-out as pipelined commands, what Redis Cluster's one-slot scripts would force",
        ),
        measured(
            "friends_board_query_vs_zrevrange",
            percentile(read_ms, 50),
            "ms",
            percentile(raw_ms, 50),
            digits=4,
            probes=probes,
            count=10,
            board=board,
        ),
    ]


async def _used_cpu_s(clients: Sequence[Any]) -> float:
    infos = await asyncio.gather(*(c.info("cpu") for c in clients))
    return sum(float(i["used_cpu_user"]) + float(i["used_cpu_sys"]) for i in infos)


async def _cpu_per_score(
    clients: Sequence[Any],
    scores: int,
    ids: list[str],
    rng: random.Random,
    apply: Any,
    progress: Progress | None,
    label: str,
) -> float:
    board = Board(f"bench-social-{uuid.uuid4().hex[:6]}")
    totals = [
        Total(board.name, rng.choice(ids), rng.randrange(1_000_000), i + 1, i + 1, LogPosition(0, i + 1))
        for i in range(scores)
    ]
    before = await _used_cpu_s(clients)
    for first in range(0, scores, BATCH):
        if progress is not None:
            progress.update(0.1 + 0.6 * first / scores, f"fan-out: {label}")
        await apply(board, totals[first : first + BATCH])
    return (await _used_cpu_s(clients) - before) * 1e6 / scores


async def _pipelined_apply(clients: Sequence[Any], board: Board, totals: list[Total]) -> None:
    """The fan-out as commands, one pipeline a shard for the reads and one for the writes."""
    newest = {t.user_id: t for t in totals}
    users = list(newest)
    for client in clients:
        reads = client.pipeline(transaction=False)
        reads.hmget(names.social_totals_key(board.name), users)
        reads.smismember(names.heavy_key(), users)
        for u in users:
            reads.smembers(names.followers_key(u))
        held, heavy, *followers = await reads.execute()
        writes = client.pipeline(transaction=False)
        for u, old, is_heavy, owners in zip(users, held, heavy, followers, strict=True):
            t = newest[u]
            if old is not None and int(old.split(b"|")[0]) >= t.version:
                continue
            mem = member(board, t)
            for owner in () if is_heavy else owners:
                key = names.friends_board_key(board.name, owner.decode())
                if old is not None:
                    writes.zrem(key, old.split(b"|")[2])
                writes.zadd(key, {mem: zscore(board.order, t.total)})
            writes.hset(names.social_totals_key(board.name), u, state_of(board, t, mem))
            writes.sadd(names.user_boards_key(u), board.name)
        await writes.execute()


async def _reads(
    social: ShardedSocialIndex, ids: list[str], rng: random.Random, probes: int, progress: Progress | None
) -> tuple[str, list[float], list[float]]:
    board = Board(f"bench-social-reads-{uuid.uuid4().hex[:6]}")
    for first in range(0, len(ids), BATCH):
        batch = ids[first : first + BATCH]
        await social.apply(board, [Total(board.name, u, rng.randrange(10**6), 1, 1, LogPosition(0, 1)) for u in batch])
    read_ms, raw_ms = [], []
    for i in range(probes):
        if progress is not None and i % 100 == 0:
            progress.update(0.8 + 0.2 * i / probes, "friends board reads")
        user = rng.choice(ids)
        started = time.perf_counter()
        await social.friends_board(board, user, 10)
        read_ms.append((time.perf_counter() - started) * 1000)
        client = social.home(user)._redis
        started = time.perf_counter()
        await client.zrange(names.friends_board_key(board.name, user), 0, 9, withscores=True)
        raw_ms.append((time.perf_counter() - started) * 1000)
    return board.name, read_ms, raw_ms
