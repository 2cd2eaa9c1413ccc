"""How the Cassandra store cuts a partition's totals into batches: every row, in order,
each batch within the size Cassandra warns about unless one row alone is bigger."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from podium.store.cassandra import BATCH_BYTES, PARTITION_BATCH_BYTES, _packed
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


@given(
    partitions=st.dictionaries(
        st.integers(0, 63), st.lists(st.text(max_size=4), min_size=1, max_size=250), max_size=64
    ),
    limit=st.integers(1, 120),
    product=st.integers(1, 2_000),
)
def test_a_read_names_each_user_once_within_its_limits(
    partitions: dict[int, list[str]], limit: int, product: int
) -> None:
    # load_totals' reads: every (slot, user) asked in exactly one read, which names its slot;
    # no read over `limit` users, nor over `product` slots × users unless it is one slot's.
    reads = _packed(sorted(partitions.items()), limit, product)
    asked = sorted((slot, u) for slot, users in partitions.items() for u in users)
    got = []
    for slots, ids in reads:
        assert ids and len(ids) <= limit and len(set(slots)) == len(slots)
        assert len(slots) == 1 or len(slots) * len(ids) <= product
    # Which slot a user came from is not in the read: rebuild it from the partitions' order.
    position = 0
    flat = [(slot, u) for slot, users in sorted(partitions.items()) for u in users]
    for slots, ids in reads:
        part = flat[position : position + len(ids)]
        assert [u for _, u in part] == ids and sorted({s for s, _ in part}) == sorted(slots)
        got += part
        position += len(ids)
    assert sorted(got) == asked
