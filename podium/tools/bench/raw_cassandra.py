"""The baseline of `db_stage_vs_raw_cassandra`: Cassandra's own write rate for the rows the
db-worker stage writes, by a plain loop with nothing of Podium's around it.

The loop writes N totals rows (N new users of one board, as the `new` workload's: first
totals, whose optional columns at their defaults are left unwritten, the rows the db-worker
writes for them) into a scratch table made like the totals table (same columns and key, no
CDC: nothing reads it), through the same driver session the db-worker uses
(`connect_store`: protocol, token-aware routing, the same default consistency), with the
same prepared INSERT … USING TIMESTAMP bound the driver's plain way (`BatchStatement.add`),
and the same concurrency: each round of the db-worker's batch size (5,000) goes as one
unlogged batch per (board, slot) partition (cut at the store's size for one partition), all
in flight at once, the next round when they are done — what one full db-worker batch of new
users writes to the totals table (a worker behind takes up to its batch size at once; the
loop mirrors it). What it leaves out is the db-worker's work: reading the log, reading the
users' totals before writing, the idempotency keys, committing offsets.
"""

from __future__ import annotations

import time
import uuid
import zlib
from collections import defaultdict
from typing import Any

from podium.pipeline.db_worker import DbWorkerSettings
from podium.settings import Settings
from podium.store.cassandra import PARTITION_BATCH_BYTES
from podium.store.rows import (
    PLACEHOLDERS,
    TOTAL_COLUMNS,
    batches_by_size,
    first_row_from_total,
    later_row_from_total,
)
from podium.tools.bench.index import make_totals

ROUND = DbWorkerSettings().batch_size  # rows in flight together: one db-worker batch, at most
SLOTS = 64  # the store's partitions of a board (podium/store/cassandra.py)


def rows_per_s(settings: Settings, rows: int) -> dict[str, Any]:
    """Write `rows` totals rows; rows a second and how it was done."""
    from cassandra.query import BatchStatement, BatchType

    from podium.bootstrap import connect_store

    store = connect_store(settings)
    session = store._session  # the db-worker's own session settings, used as they are
    ks = settings.cassandra_keyspace
    table = f"bench_totals_{uuid.uuid4().hex[:8]}"
    session.execute(
        f"CREATE TABLE {ks}.{table} (board text, slot int, user_id text, total bigint, version bigint, "
        "reached_at_us bigint, log_partition int, log_offset bigint, removed boolean, updated_at_us bigint, "
        "subscore bigint, best_total bigint, hidden boolean, display_name text, metadata text, region text, "
        "steps text, PRIMARY KEY ((board, slot), user_id))",
        timeout=60,
    )
    from cassandra.query import UNSET_VALUE

    try:
        insert = session.prepare(
            f"INSERT INTO {ks}.{table} (slot, {TOTAL_COLUMNS}) VALUES (?, {PLACEHOLDERS}) USING TIMESTAMP ?"
        )
        totals = make_totals(f"bench-raw-{table}", rows, seed=4)
        requests = 0
        started = time.perf_counter()
        for i in range(0, rows, ROUND):
            by_partition: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
            for t in totals[i : i + ROUND]:
                slot = zlib.crc32(t.user_id.encode()) % SLOTS
                # The row the db-worker writes for it: a new user's first total, its
                # optional columns at their defaults left unwritten (CassandraStore.write_totals).
                row = first_row_from_total(t, UNSET_VALUE) if t.version == 1 else later_row_from_total(t, UNSET_VALUE)
                by_partition[slot].append((slot, *row, t.version))
            futures = []
            for batch_rows in (
                b for part in by_partition.values() for b in batches_by_size(part, PARTITION_BATCH_BYTES)
            ):
                batch = BatchStatement(batch_type=BatchType.UNLOGGED)
                for params in batch_rows:
                    batch.add(insert, params)
                futures.append(session.execute_async(batch))
            for future in futures:
                future.result()
            requests += len(futures)
        seconds = time.perf_counter() - started
    finally:
        session.execute(f"DROP TABLE IF EXISTS {ks}.{table}", timeout=60)
        store.shutdown()
    return {"per_s": rows / seconds, "rows": rows, "requests": requests, "in_flight_per_round": ROUND}
