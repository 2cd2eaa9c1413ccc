"""The same operations through agoragames' `leaderboard` library (PyPI `leaderboard`,
the best-known Redis leaderboard library for Python), on the same Redis, same users:
ours ÷ theirs. Theirs is one plain sorted set per board (no versions, no exactness under
replays, no sharding): what a leaderboard costs with nothing but Redis underneath.

Their calls, each the one that gives what ours gives:
  rank      `ranked_in_list([user])`: rank and score, one pipeline (ZREVRANK + ZSCORE)
  top_page  `leaders(page, page_size=100)`: ZREVRANGE, then a pipeline of rank + score each
  around    `around_me(user, page_size=11)`: ZREVRANK, ZREVRANGE, then that pipeline
  apply     `rank_members([...])` in batches of 1,000: one MULTI/EXEC of ZADDs

`leaderboard` 3.7.3 (its last release) was written for redis-py 2, whose ZADD took
(name, member, score) positionally; redis-py 3 and later take a mapping. It is given a
client whose pipelines turn that one call into the mapping form; every command it sends
to Redis is its own.
"""

from __future__ import annotations

import statistics
import time
import uuid
from collections.abc import Sequence
from typing import Any

from podium.domain.totals import Total
from podium.tools.bench import Figure, measured


def legacy_client(url: str) -> Any:
    """A redis-py client whose pipelines also accept redis-py 2's `zadd(name, member, score)`."""
    import redis
    from redis.client import Pipeline

    class LegacyPipeline(Pipeline):
        def zadd(self, name: Any, *args: Any, **kwargs: Any) -> Any:
            if len(args) == 2 and not isinstance(args[0], dict):
                member, score = args
                return super().zadd(name, {member: score})
            return super().zadd(name, *args, **kwargs)

    class LegacyRedis(redis.Redis):
        def pipeline(self, transaction: bool = True, shard_hint: Any = None) -> Any:
            return LegacyPipeline(self.connection_pool, self.response_callbacks, transaction, shard_hint)

    return LegacyRedis.from_url(url)


def theirs(url: str, totals: Sequence[Total], probes: Sequence[str], offsets: Sequence[int]) -> dict[str, float]:
    """Their apply rate (totals/s) and median query latencies (ms) on a fresh board."""
    from leaderboard.leaderboard import Leaderboard  # the library is a bench dependency only

    client = legacy_client(url)
    board = Leaderboard(f"bench-agoragames-{uuid.uuid4().hex[:6]}", redis_connection=client)
    try:
        started = time.perf_counter()
        for i in range(0, len(totals), 1000):
            flat: list[Any] = []
            for t in totals[i : i + 1000]:
                flat += [t.user_id, t.total]
            board.rank_members(flat)
        apply_per_s = len(totals) / (time.perf_counter() - started)

        def median_ms(call: Any) -> float:
            samples = []
            for i in range(len(probes)):
                one = time.perf_counter()
                call(i)
                samples.append((time.perf_counter() - one) * 1e3)
            return statistics.median(samples)

        got = board.ranked_in_list([probes[0]])
        assert got and got[0]["rank"] is not None, "their board must hold the users"
        return {
            "apply": apply_per_s,
            "rank": median_ms(lambda i: board.ranked_in_list([probes[i]])),
            # Their pages are numbered: the page holding our offset (1-based).
            "top_page": median_ms(lambda i: board.leaders(offsets[i] // 100 + 1, page_size=100)),
            "around": median_ms(lambda i: board.around_me(probes[i], page_size=11)),
        }
    finally:
        board.delete_leaderboard()
        client.close()


def figures(ours: dict[str, float], their: dict[str, float], users: int) -> list[Figure]:
    """`vs_agoragames_<op>`: ours ÷ theirs, latency for the queries (lower is better),
    totals a second for apply (higher is better)."""
    found = []
    for op in ("rank", "top_page", "around"):
        found.append(
            measured(
                f"vs_agoragames_{op}", ours[op], "ms", their[op], users=users, ours="sharded index", better="lower"
            )
        )
    found.append(
        measured(
            "vs_agoragames_apply",
            ours["apply"],
            "totals/s",
            their["apply"],
            digits=0,
            users=users,
            ours="sharded index, versioned, WAIT, splits included",
            better="higher",
        )
    )
    return found
