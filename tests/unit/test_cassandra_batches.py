"""How the Cassandra store cuts a partition's totals into batches: every row, in order,
each batch within the size Cassandra warns about unless one row alone is bigger."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from podium.store.cassandra import BATCH_BYTES
from podium.store.rows import batches_by_size


def size(row: tuple[object, ...]) -> int:
    return 100 + sum(len(v.encode()) for v in row if isinstance(v, str))


@given(st.lists(st.tuples(st.integers(), st.text(max_size=3000)), max_size=60))
def test_batches_keep_every_row_within_the_size(rows: list[tuple[object, ...]]) -> None:
    batches = batches_by_size(rows, BATCH_BYTES)
    assert [row for batch in batches for row in batch] == rows
    assert all(batch for batch in batches)
    for batch in batches:
        assert len(batch) == 1 or sum(size(row) for row in batch) <= BATCH_BYTES
