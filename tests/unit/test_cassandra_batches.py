"""How the Cassandra store cuts a partition's totals into batches: every row, in order,
each batch within the size Cassandra warns about unless one row alone is bigger."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podium.store.cassandra import BATCH_BYTES, PARTITION_BATCH_BYTES
from podium.store.rows import batches_by_size


def size(row: tuple[object, ...]) -> int:
    return 100 + sum(len(v.encode()) for v in row if isinstance(v, str))


@pytest.mark.parametrize("max_bytes", [BATCH_BYTES, PARTITION_BATCH_BYTES])
@given(rows=st.lists(st.tuples(st.integers(), st.text(max_size=3000)), max_size=60))
def test_batches_keep_every_row_within_the_size(max_bytes: int, rows: list[tuple[object, ...]]) -> None:
    batches = batches_by_size(rows, max_bytes)
    assert [row for batch in batches for row in batch] == rows
    assert all(batch for batch in batches)
    for batch in batches:
        assert len(batch) == 1 or sum(size(row) for row in batch) <= max_bytes


def test_a_full_db_worker_batch_of_one_partition_is_one_request() -> None:
    # 5,000 new users of a board over 64 slots: ~80 rows of ~130 bytes a partition.
    rows = [(7, "a-board-of-twenty-chars", f"user-{i}", i) for i in range(80)]
    assert len(batches_by_size(rows, PARTITION_BATCH_BYTES)) == 1
    assert len(batches_by_size(rows, BATCH_BYTES)) > 1
