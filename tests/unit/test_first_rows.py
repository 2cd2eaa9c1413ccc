"""A user's first total is written without its default cells, and reads back the same from
the store's row and from the change feed (both read an absent optional cell as None)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from podium.domain.totals import LogPosition, Total
from podium.store.rows import COLUMNS, OPTIONAL, first_row_from_total, row_from_total, total_from_row

UNSET = object()


def first_totals() -> st.SearchStrategy[Total]:
    text = st.sampled_from(["", "ada", '{"v":1}', "eu"])
    return st.builds(
        Total,
        board=st.just("b"),
        user_id=st.just("u"),
        total=st.integers(-5, 5),
        version=st.just(1),
        reached_at_us=st.integers(0, 10),
        position=st.builds(LogPosition, st.integers(0, 3), st.integers(0, 99)),
        removed=st.booleans(),
        updated_at_us=st.integers(0, 10),
        subscore=st.integers(-1, 1),
        best_total=st.integers(-5, 5),
        hidden=st.booleans(),
        display_name=text,
        metadata=text,
        region=text,
    )


@given(first_totals())
def test_a_first_row_reads_back_as_its_total(t: Total) -> None:
    row = first_row_from_total(t, UNSET)
    assert len(row) == len(COLUMNS)
    assert total_from_row([None if v is UNSET else v for v in row]) == t


@given(first_totals())
def test_only_optional_columns_at_their_default_are_left_out(t: Total) -> None:
    row, full = first_row_from_total(t, UNSET), row_from_total(t)
    for column, value, written in zip(COLUMNS, row, full, strict=True):
        if value is UNSET:
            assert column in OPTIONAL
        else:
            assert value == written


def test_a_new_users_plain_score_is_seven_cells() -> None:
    t = Total("b", "u", 3, 1, 5, LogPosition(0, 9), False, 5, best_total=3)
    assert sum(v is not UNSET for v in first_row_from_total(t, UNSET)[2:]) == 7  # past the key columns
