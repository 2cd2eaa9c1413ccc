"""The last rows a SQLite table gained from this process, kept in memory with their sequence
numbers, so that a reader in the same process takes them without a query.

Each item is the committed row of its sequence number (AUTOINCREMENT never reuses one), and
the tail has no gap: rows that do not follow the last ones (another process wrote between)
start it again. A reader whose next row is not here (at a start, after a rewind, or past
what this process wrote) reads the table, as it would without a tail.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Generic, TypeVar

T = TypeVar("T")


class Tail(Generic[T]):
    def __init__(self, limit: int) -> None:
        self._limit = limit
        self._items: list[T] = []
        self._first_seq = 0  # of _items[0]

    def extend(self, first_seq: int, items: Iterable[T]) -> None:
        """Rows `first_seq`, `first_seq + 1`, ... as committed."""
        if self._items and first_seq != self._first_seq + len(self._items):
            self.clear()
        if not self._items:
            self._first_seq = first_seq
        self._items.extend(items)
        if len(self._items) > 2 * self._limit:  # half dropped at once: a slice, not a shift a row
            drop = len(self._items) - self._limit
            del self._items[:drop]
            self._first_seq += drop

    def read(self, next_seq: int, max_items: int) -> tuple[int, list[T]]:
        """The rows from `next_seq` on (at most `max_items`), with the first one's sequence
        number; none if the tail does not hold `next_seq`: read the table."""
        at = next_seq - self._first_seq
        if at < 0 or at >= len(self._items):
            return next_seq, []
        return next_seq, self._items[at : at + max_items]

    def clear(self) -> None:
        self._items = []
        self._first_seq = 0
