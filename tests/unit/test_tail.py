"""The in-memory tail of a SQLite table (podium/plumbing/tail.py): a reader may take a row
from it only if it is exactly the row of that sequence number."""

from __future__ import annotations

from podium.plumbing.tail import Tail


def test_rows_are_read_from_the_sequence_number_asked() -> None:
    tail: Tail[str] = Tail(limit=10)
    tail.extend(5, ["e", "f"])
    tail.extend(7, ["g"])
    assert tail.read(6, 10) == (6, ["f", "g"])
    assert tail.read(5, 2) == (5, ["e", "f"])


def test_a_sequence_number_outside_the_tail_is_for_the_table() -> None:
    tail: Tail[str] = Tail(limit=10)
    assert tail.read(1, 10) == (1, [])
    tail.extend(5, ["e", "f"])
    assert tail.read(4, 10) == (4, [])  # before it: a start or a rewind reads the table
    assert tail.read(7, 10) == (7, [])  # past it: maybe written by another process


def test_rows_after_a_gap_start_the_tail_again() -> None:
    tail: Tail[str] = Tail(limit=10)
    tail.extend(5, ["e", "f"])
    tail.extend(9, ["i"])  # 7 and 8 were written by someone else
    assert tail.read(5, 10) == (5, [])
    assert tail.read(7, 10) == (7, [])
    assert tail.read(9, 10) == (9, ["i"])


def test_the_oldest_rows_are_dropped_past_twice_the_limit() -> None:
    tail: Tail[int] = Tail(limit=3)
    for seq in range(1, 8):
        tail.extend(seq, [seq])
    assert tail.read(1, 10) == (1, [])
    assert tail.read(5, 10) == (5, [5, 6, 7])
