"""Parsing the Debezium Cassandra connector's change events (the envelope as documented in docs/stack.md)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from podium.cdc.debezium import parse_envelope
from podium.domain.totals import LogPosition, Total
from podium.errors import InvalidRecord

CELLS = {
    "board": "arena",
    "slot": 26,
    "user_id": "u3",
    "total": 30,
    "version": 2,
    "reached_at_us": 1795786369577024,
    "log_partition": 4,
    "log_offset": 17,
    "removed": False,
    "updated_at_us": 1795786369577099,
}


def event(op: str = "i", **changes: Any) -> bytes:
    cells = {**CELLS, **changes}
    after = {k: (None if v is None else {"value": v, "deletion_ts": None, "set": True}) for k, v in cells.items()}
    after |= {"_range_start": None, "_range_end": None}
    source = {"connector": "cassandra", "keyspace": "podium", "table": "totals", "ts_us": 2}
    return orjson.dumps({"op": op, "ts_ms": 1, "source": source, "after": after})


def test_an_insert_or_update_carries_the_whole_total() -> None:
    want = Total("arena", "u3", 30, 2, 1795786369577024, LogPosition(4, 17), False, 1795786369577099, best_total=30)
    assert parse_envelope(event("i")) == want  # a row from before the newer columns: their defaults
    assert parse_envelope(event("u")) == want
    extra = {"subscore": -4, "best_total": 41, "hidden": True, "display_name": "Zoë", "metadata": '{"car":"red"}'}
    assert parse_envelope(event("u", **extra)) == Total(
        "arena", "u3", 30, 2, 1795786369577024, LogPosition(4, 17), False, 1795786369577099,
        -4, 41, True, "Zoë", '{"car":"red"}',
    )  # fmt: skip


@pytest.mark.parametrize("op", ["d", "r"])
def test_deletes_carry_no_total(op: str) -> None:
    assert parse_envelope(event(op)) is None


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[1]", b'{"op": "i"}', event(total=None), event(version="x"), event(log_offset=None)],
)
def test_undecodable_or_partial_events_are_invalid(raw: bytes) -> None:
    with pytest.raises(InvalidRecord):
        parse_envelope(raw)


def test_cells_of_another_json_type_read_as_their_column_type() -> None:
    # The typed decoding (msgspec) refuses these; the general way converts them, as it always did.
    typed = parse_envelope(event("u", subscore=-4, hidden=True))
    assert typed is not None and typed.subscore == -4 and typed.hidden
    assert parse_envelope(event("u", subscore="-4", hidden=1, total="30", log_offset=17.0)) == typed
    bare = orjson.loads(event("u", subscore=-4, hidden=True))
    bare["after"]["user_id"] = "u3"  # a bare value, not a cell
    assert parse_envelope(orjson.dumps(bare)) == typed


def test_a_cell_without_a_value_is_the_columns_default_or_a_partial_row() -> None:
    raw = orjson.loads(event("u", display_name="Zoë"))
    raw["after"]["display_name"] = {"deletion_ts": None, "set": True}
    total = parse_envelope(orjson.dumps(raw))
    assert total is not None and total.display_name == ""
    raw["after"]["version"] = {"set": True}
    with pytest.raises(InvalidRecord, match="version"):
        parse_envelope(orjson.dumps(raw))
