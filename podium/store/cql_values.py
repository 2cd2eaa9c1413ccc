"""A prepared statement's rows encoded for a batch by Podium, not bound by the driver.

The driver's `BatchStatement.add(prepared, row)` binds each row through a `BoundStatement`:
a column description, an encryption-policy check and a type's `serialize` a value, about
12 µs a totals row (18 values) — a fifth of a db-worker's CPU a score. The store's batches
carry only a few column types, whose wire form is fixed (the native protocol's `[value]`:
big-endian int and bigint, one byte for a boolean, UTF-8 for text), so a row is encoded
here by a function a column chosen once a statement, about 2 µs, and added to the batch as
the driver adds a bound one. A type not listed here goes through the driver's own
`serialize`, and UNSET and NULL are passed as the driver passes them.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

Encode = Callable[[Any], Any]

_INT = struct.Struct(">i").pack
_BIGINT = struct.Struct(">q").pack
_TRUE, _FALSE = b"\x01", b"\x00"


def _fast(type_name: str) -> Callable[[Any], bytes] | None:
    if type_name == "LongType":
        return _BIGINT
    if type_name == "Int32Type":
        return _INT
    if type_name == "BooleanType":
        return lambda v: _TRUE if v else _FALSE
    if type_name in ("UTF8Type", "VarcharType"):
        return str.encode  # UTF-8
    return None


class RowEncoder:
    """The values of one prepared statement's rows, as the driver's bind would give them."""

    def __init__(self, prepared: Any) -> None:
        from cassandra.query import UNSET_VALUE

        self._unset = UNSET_VALUE
        self._prepared = prepared
        self._version = prepared.protocol_version
        self._query_id = prepared.query_id
        meta = prepared.column_metadata
        self._keyspace = meta[0].keyspace_name if meta else None
        self._routing = list(prepared.routing_key_indexes or ())
        # Encrypted columns are the driver's to encode: none here is, but a policy set is obeyed.
        self._plain = not getattr(prepared, "column_encryption_policy", None)
        self._encoders: list[Encode] = [self._column(m.type) for m in meta]

    def _column(self, cql_type: Any) -> Encode:
        fast = _fast(getattr(cql_type, "__name__", ""))
        serialize = fast if fast is not None else (lambda v, t=cql_type: t.serialize(v, self._version))
        unset = self._unset

        def encode(value: Any) -> Any:
            if value is None or value is unset:
                return value
            return serialize(value)

        return encode

    def values(self, row: Sequence[Any]) -> list[Any]:
        if len(row) != len(self._encoders):
            if len(row) > len(self._encoders):
                raise ValueError(f"{len(row)} values for {len(self._encoders)} columns")
            row = (*row, *(self._unset,) * (len(self._encoders) - len(row)))  # as the driver pads (v4)
        return [encode(value) for encode, value in zip(self._encoders, row, strict=True)]

    def routing_key(self, values: Sequence[Any]) -> bytes | None:
        """The partition key of a row's encoded values, as the driver computes it for routing."""
        if not self._routing:
            return None
        if len(self._routing) == 1:
            key: bytes = values[self._routing[0]]
            return key
        return b"".join(len(values[i]).to_bytes(2, "big") + values[i] + b"\x00" for i in self._routing)

    def add(self, batch: Any, row: Sequence[Any]) -> None:
        """`row` added to `batch` as the driver's `BatchStatement.add` adds it bound."""
        if self._plain:
            batch._statements_and_parameters.append((True, self._query_id, self.values(row)))
        else:
            batch.add(self._prepared, row)

    def batch(self, rows: Sequence[Sequence[Any]], batch_type: Any) -> Any:
        """An unlogged (or other) batch of `rows`, routed by its first row's partition."""
        return batch_of([(self, row) for row in rows], batch_type)


def batch_of(rows: Sequence[tuple[RowEncoder, Sequence[Any]]], batch_type: Any) -> Any:
    """A batch of rows of one or several prepared statements (the rank history's points and
    trims of one partition), routed by the first row's partition as the driver routes it."""
    from cassandra.query import BatchStatement

    batch = BatchStatement(batch_type=batch_type)
    for encoder, row in rows:
        encoder.add(batch, row)
    first = rows[0][0] if rows else None
    if first is not None and first._plain and first._keyspace:
        batch.keyspace = first._keyspace
        batch.routing_key = first.routing_key(batch._statements_and_parameters[0][2])
    return batch
