"""Rows encoded by Podium for a batch (podium/store/cql_values.py) are byte for byte what the
driver's own bind gives, routed by the same partition key: the totals insert's columns,
first and later rows, UNSET and NULL included, and a column type the encoder leaves to the
driver."""

from __future__ import annotations

from typing import Any

import pytest
from cassandra.cqltypes import BooleanType, DoubleType, Int32Type, LongType, UTF8Type
from cassandra.protocol import ColumnMetadata
from cassandra.query import UNSET_VALUE, BatchStatement, BatchType, PreparedStatement
from hypothesis import given
from hypothesis import strategies as st

from podium.domain.totals import LogPosition, Total
from podium.store.cassandra import slot_of
from podium.store.cql_values import RowEncoder, batch_of
from podium.store.rows import COLUMNS, first_row_from_total, later_row_from_total

TYPES = {
    "board": UTF8Type,
    "user_id": UTF8Type,
    "total": LongType,
    "version": LongType,
    "reached_at_us": LongType,
    "log_partition": Int32Type,
    "log_offset": LongType,
    "removed": BooleanType,
    "updated_at_us": LongType,
    "subscore": LongType,
    "best_total": LongType,
    "hidden": BooleanType,
    "display_name": UTF8Type,
    "metadata": UTF8Type,
    "region": UTF8Type,
    "steps": UTF8Type,
}


def prepared(columns: list[tuple[str, Any]], routing: list[int], query_id: bytes = b"qid") -> PreparedStatement:
    meta = [ColumnMetadata("ks", "totals", name, cql_type) for name, cql_type in columns]
    return PreparedStatement(meta, query_id, routing, "INSERT …", "ks", 4, None, None)


# The totals insert as the store prepares it: slot, the columns, USING TIMESTAMP ?; the
# partition key (board, slot).
INSERT = prepared([("slot", Int32Type), *((c, TYPES[c]) for c in COLUMNS), ("[timestamp]", LongType)], routing=[1, 0])

ints = st.integers(-(2**63), 2**63 - 1)
texts = st.text(max_size=40)
totals = st.builds(
    Total,
    board=st.text(min_size=1, max_size=30),
    user_id=st.text(min_size=1, max_size=30),
    total=ints,
    version=st.integers(1, 2**62),
    reached_at_us=ints,
    position=st.builds(LogPosition, st.integers(0, 2**31 - 1), st.integers(0, 2**62)),
    removed=st.booleans(),
    updated_at_us=ints,
    subscore=ints,
    best_total=ints,
    hidden=st.booleans(),
    display_name=texts,
    metadata=texts,
    region=texts,
    steps=texts,
)


def driver_batch(statement: PreparedStatement, rows: list[tuple[Any, ...]]) -> BatchStatement:
    batch = BatchStatement(batch_type=BatchType.UNLOGGED)
    for row in rows:
        batch.add(statement, row)
    return batch


@given(st.lists(totals, min_size=1, max_size=5))
def test_a_batch_of_totals_rows_is_what_the_driver_binds(written: list[Total]) -> None:
    rows = []
    for t in written:
        row = first_row_from_total(t, UNSET_VALUE) if t.version == 1 else later_row_from_total(t, UNSET_VALUE)
        rows.append((slot_of(t.user_id), *row, t.version))
    ours = RowEncoder(INSERT).batch(rows, BatchType.UNLOGGED)
    theirs = driver_batch(INSERT, rows)
    assert ours._statements_and_parameters == theirs._statements_and_parameters
    assert ours.routing_key == theirs.routing_key
    assert ours.keyspace == theirs.keyspace == "ks"
    assert ours.batch_type == theirs.batch_type


def test_null_unset_and_a_type_left_to_the_driver() -> None:
    statement = prepared([("k", UTF8Type), ("x", DoubleType), ("n", LongType), ("u", BooleanType)], routing=[0])
    rows = [("a", 1.5, None, UNSET_VALUE), ("é", -0.25, 7, False)]
    ours = RowEncoder(statement).batch(rows, BatchType.UNLOGGED)
    theirs = driver_batch(statement, rows)
    assert ours._statements_and_parameters == theirs._statements_and_parameters
    assert ours.routing_key == theirs.routing_key == b"a"


def test_a_short_row_is_padded_as_the_driver_pads_it_and_a_long_one_refused() -> None:
    statement = prepared([("k", UTF8Type), ("n", LongType)], routing=[0])
    ours = RowEncoder(statement).batch([("a",)], BatchType.UNLOGGED)
    assert ours._statements_and_parameters == driver_batch(statement, [("a",)])._statements_and_parameters
    with pytest.raises(ValueError):
        RowEncoder(statement).values(("a", 1, 2))


def test_a_batch_of_two_statements_is_what_the_driver_binds() -> None:
    # The rank history's points and the trims due among them, one partition (board, slot).
    point = prepared(
        [("board", UTF8Type), ("slot", Int32Type), ("user_id", UTF8Type), ("version", LongType)], [0, 1], b"insert"
    )
    trim = prepared(
        [("board", UTF8Type), ("slot", Int32Type), ("user_id", UTF8Type), ("version", LongType)], [0, 1], b"trim"
    )
    rows = [(point, ("b", 7, "ann", 200)), (trim, ("b", 7, "ann", 100)), (point, ("b", 7, "bob", 3))]
    encoders = {id(point): RowEncoder(point), id(trim): RowEncoder(trim)}
    ours = batch_of([(encoders[id(s)], row) for s, row in rows], BatchType.UNLOGGED)
    theirs = BatchStatement(batch_type=BatchType.UNLOGGED)
    for statement, row in rows:
        theirs.add(statement, row)
    assert ours._statements_and_parameters == theirs._statements_and_parameters
    assert ours.routing_key == theirs.routing_key
    assert ours.keyspace == theirs.keyspace == "ks"
