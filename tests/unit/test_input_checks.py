"""The small checks hostile input meets first: whole numbers in text, nesting depth."""

from __future__ import annotations

from typing import Any

import pytest

from podium.api.requests import MAX_INT64, digits, nested_deeper


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        *[("0", 0), ("42", 42), (str(MAX_INT64), MAX_INT64)],
        *[(str(MAX_INT64 + 1), None), ("9" * 5000, None), ("²", None), ("٣", None), ("-1", None), ("", None)],
    ],
)
def test_digits(raw: str, expected: int | None) -> None:
    assert digits(raw) == expected


def test_digits_within_a_smaller_bound() -> None:
    assert digits("1024", 1024) == 1024 and digits("1025", 1024) is None


def nest(depth: int) -> Any:
    value: Any = 1
    for i in range(depth):
        value = {"k": value} if i % 2 else [value]
    return value


@pytest.mark.parametrize(("value", "depth"), [(1, 0), ({}, 1), ([1, "a"], 1), ({"a": [1, {"b": 2}]}, 3)])
def test_nested_deeper_counts_levels_of_objects_and_arrays(value: Any, depth: int) -> None:
    assert not nested_deeper(value, depth)
    assert nested_deeper(value, depth - 1) == (depth > 0)


def test_nested_deeper_walks_deep_values_without_recursing() -> None:
    deep = nest(100_000)
    assert nested_deeper(deep, 8)
    assert not nested_deeper(nest(8), 8)
