"""The distributed rank history: a time-series table of the Podium keyspace, read and
written through the store's session. A board's points are spread over SLOTS partitions
(by a hash of the user id, as its totals are), each clustered by user and then by the
total's version, newest first: a user's versions grow in the order its changes happened,
so within the user that is time order, and a redelivered change writes the same row
again. A user keeps at most 2 × `points` rows (a range delete trims its slice once every
`points` versions, base.due_for_trim), so reading a user's history with `from`/`to`
filters one small slice of one partition (ALLOW FILTERING within it, never across the
table).

Why (board, slot) and not (board, user): each partition written is a mutation of its own
in Cassandra (its memtable, the commit log, which Debezium's connector reads whole), and a
point a partition was about a third of Cassandra's CPU for returning users (issue 19,
docs/benchmarks.md). With a partition a slot, a rank-worker batch's points of one slot are
one mutation, a trim due in the batch rides in the same one, and a board's users forgotten
together are a mutation a slot."""

from __future__ import annotations

import asyncio
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from podium.history.base import Point, due_for_trim
from podium.plumbing import names

if TYPE_CHECKING:
    from podium.store.cassandra import CassandraStore

# The slots of a board. Fewer slots put more of a batch's points in one mutation (a batch of
# 2,000 users is ~250 mutations over 256 slots, ~8 points each; over 64 it would be 64, but
# each partition four times bigger); more slots keep a big board's partitions smaller. At
# 256: a board of a million users with `points` = 100 holds at most 200 rows a user, ~780,000
# rows (~40 MB) a partition just before the trims, half that after: under the 100 MB that
# Cassandra's guidance sets for a partition, and a read is one user's slice of it. Each trim
# leaves one range tombstone in its user's slice (a user's, not the partition's, reads meet
# it) until compaction drops it after gc_grace_seconds. A board of ten million users would
# want more slots: the slot is in the key, so that is a new table.
SLOTS = 256
# Statements in one batch: one partition's are one mutation, which Cassandra does not check
# against the batch size thresholds (CASSANDRA-10876, as the totals' writes: podium/store/
# cassandra.py); ~100 bytes a point keeps a batch near 40 KiB, far under a commit log segment.
BATCH_POINTS = 400

TABLE = "{ks}." + names.RANK_HISTORY_TABLE
SCHEMA = (
    f"CREATE TABLE IF NOT EXISTS {TABLE} (board text, slot int, user_id text, version bigint, at_us bigint, "
    "score bigint, rank bigint, PRIMARY KEY ((board, slot), user_id, version)) "
    "WITH CLUSTERING ORDER BY (user_id ASC, version DESC)"
)
INSERT = f"INSERT INTO {TABLE} (board, slot, user_id, version, at_us, score, rank) VALUES (?, ?, ?, ?, ?, ?, ?)"
TRIM = f"DELETE FROM {TABLE} WHERE board = ? AND slot = ? AND user_id = ? AND version <= ?"
FORGET = f"DELETE FROM {TABLE} WHERE board = ? AND slot = ? AND user_id = ?"
READ = (
    f"SELECT version, at_us, score, rank FROM {TABLE} WHERE board = ? AND slot = ? AND user_id = ? "
    "AND at_us >= ? AND at_us <= ? LIMIT ? ALLOW FILTERING"
)

Statement = tuple[str, tuple[Any, ...]]


def slot_of(user_id: str) -> int:
    return zlib.crc32(user_id.encode()) % SLOTS


class CassandraRankHistory:
    def __init__(self, store: CassandraStore, *, points: int) -> None:
        self._store = store  # owns the session: closing the store closes it
        self._points = points

    async def prepare(self) -> None:
        """Create the table if missing (idempotent; each process may run it at start)."""
        await self._store.execute(SCHEMA)

    async def record(self, points: Sequence[Point]) -> None:
        # A batch per partition (board, slot): its points and the trims due among them are one
        # request and one mutation, whatever the number of users in it.
        keep = self._points
        by_slot: dict[tuple[str, int], list[Statement]] = defaultdict(list)
        for p in points:
            slot = slot_of(p.user_id)
            statements = by_slot[(p.board, slot)]
            statements.append((INSERT, (p.board, slot, p.user_id, p.version, p.at_us, p.score, p.rank)))
            if due_for_trim(p.version, keep):
                # Same batch, same timestamp: the trim spares every version above v - keep,
                # so it never takes a point written beside it that the setting keeps.
                statements.append((TRIM, (p.board, slot, p.user_id, p.version - keep)))
        await self._write(by_slot.values())

    async def points(
        self, board: str, user_id: str, *, from_us: int | None, to_us: int | None, limit: int
    ) -> list[Point]:
        low = -(2**63) if from_us is None else from_us
        high = 2**63 - 1 if to_us is None else to_us
        rows = await self._store.execute(READ, (board, slot_of(user_id), user_id, low, high, limit))
        return [Point(board, user_id, at, version, score, rank) for version, at, score, rank in rows]

    async def forget(self, user_id: str, boards: Sequence[str]) -> None:
        slot = slot_of(user_id)
        await asyncio.gather(*(self._store.execute(FORGET, (board, slot, user_id)) for board in boards))

    async def forget_users(self, board: str, user_ids: Sequence[str]) -> None:
        # The users of one slot in one batch: a mutation a slot, not a request a user.
        by_slot: dict[int, list[Statement]] = defaultdict(list)
        for user_id in user_ids:
            slot = slot_of(user_id)
            by_slot[slot].append((FORGET, (board, slot, user_id)))
        await self._write(by_slot.values())

    async def _write(self, partitions: Iterable[list[Statement]]) -> None:
        batches = [part[i : i + BATCH_POINTS] for part in partitions for i in range(0, len(part), BATCH_POINTS)]
        await asyncio.gather(*(self._store.execute_batch(batch) for batch in batches))

    async def close(self) -> None:
        return None
