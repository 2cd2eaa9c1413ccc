from __future__ import annotations

import pytest

from podium.domain.boards import Board, Operator, Order
from podium.domain.ordering import sort_key, subscore_of, tie_floor, tie_of
from podium.domain.totals import (
    LogPosition,
    ScoreSubmitted,
    Total,
    UserHidden,
    UserRemoved,
    apply_event,
    is_newer,
    is_redelivery,
)

BOARD = Board("b", Order.DESC, Operator.BEST)


def at(offset: int) -> LogPosition:
    return LogPosition(0, offset)


def score(value: int, at_us: int, key: str | None = None) -> ScoreSubmitted:
    return ScoreSubmitted("b", "u", value, key, at_us)


def test_first_score_starts_at_version_1() -> None:
    t = apply_event(BOARD, None, score(10, 100), at(1))
    assert (t.total, t.version, t.reached_at_us, t.position, t.removed) == (10, 1, 100, at(1), False)


def test_a_worse_best_keeps_the_total_and_when_it_was_reached_but_bumps_the_version() -> None:
    first = apply_event(BOARD, None, score(10, 100), at(1))
    second = apply_event(BOARD, first, score(5, 200), at(2))
    assert (second.total, second.reached_at_us, second.version, second.position) == (10, 100, 2, at(2))


def test_a_better_best_is_reached_now() -> None:
    first = apply_event(BOARD, None, score(10, 100), at(1))
    second = apply_event(BOARD, first, score(15, 200), at(2))
    assert (second.total, second.reached_at_us) == (15, 200)


def test_a_duplicate_key_changes_nothing_but_the_version_and_position() -> None:
    first = apply_event(Board("b"), None, score(10, 100, "k"), at(1))
    again = apply_event(Board("b"), first, score(10, 200, "k"), at(2), duplicate_key=True)
    assert (again.total, again.reached_at_us, again.version, again.position) == (10, 100, 2, at(2))


def test_removal_leaves_a_tombstone_and_a_later_score_starts_afresh() -> None:
    first = apply_event(Board("b"), None, score(10, 100), at(1))
    gone = apply_event(Board("b"), first, UserRemoved("b", "u", 150), at(2))
    assert gone.removed and gone.version == 2
    back = apply_event(Board("b"), gone, score(3, 200), at(3))
    assert (back.total, back.version, back.removed) == (3, 3, False)


def test_redelivery_is_recognised_by_log_position_on_the_same_partition() -> None:
    t = Total("b", "u", 1, 1, 1, LogPosition(2, 10))
    assert is_redelivery(t, LogPosition(2, 10))
    assert is_redelivery(t, LogPosition(2, 9))
    assert not is_redelivery(t, LogPosition(2, 11))
    assert not is_redelivery(t, LogPosition(3, 5))
    assert not is_redelivery(None, LogPosition(2, 1))


def test_only_newer_versions_apply() -> None:
    old = Total("b", "u", 1, 3, 1, at(1))
    assert is_newer(Total("b", "u", 0, 4, 1, at(2)), old)
    assert not is_newer(Total("b", "u", 9, 3, 1, at(2)), old)
    assert not is_newer(Total("b", "u", 9, 2, 1, at(2)), old)
    assert is_newer(old, None)


def test_sort_key_orders_best_first_then_earliest_then_user() -> None:
    desc_board, asc_board = Board("d", Order.DESC), Board("a", Order.ASC)
    desc = sorted(
        [(5, 2, "a"), (9, 3, "b"), (5, 1, "c"), (5, 1, "b")], key=lambda x: sort_key(desc_board, x[0], 0, *x[1:])
    )
    assert [u for _, _, u in desc] == ["b", "b", "c", "a"]
    asc = sorted([(5, 2, "a"), (9, 3, "b"), (1, 9, "c")], key=lambda x: sort_key(asc_board, x[0], 0, *x[1:]))
    assert [u for _, _, u in asc] == ["c", "a", "b"]


@pytest.mark.parametrize("sub_order", [Order.ASC, Order.DESC])
def test_the_subscore_breaks_ties_before_time(sub_order: Order) -> None:
    board = Board("s", Order.DESC, subscore_order=sub_order)
    users = [(5, 3, 1, "late_low"), (5, 7, 9, "early_high"), (6, -(2**53) + 1, 50, "best"), (5, 7, 10, "later_high")]
    ranked = [u for *_, u in sorted(users, key=lambda x: sort_key(board, *x))]
    if sub_order is Order.DESC:
        assert ranked == ["best", "early_high", "later_high", "late_low"]
    else:
        assert ranked == ["best", "late_low", "early_high", "later_high"]
    for total, sub, at_us, user in users:
        key = sort_key(board, total, sub, at_us, user)
        assert subscore_of(board, key[1]) == sub
        assert tie_of(board, key) == tie_of(board, tie_floor(board, total, sub))
        assert tie_floor(board, total, sub) < key


def test_decr_subtracts_with_no_floor_and_an_override_wins() -> None:
    board = Board("b", Order.DESC, Operator.INCR)
    first = apply_event(board, None, ScoreSubmitted("b", "u", 5, None, 1, operator=Operator.DECR), at(1))
    assert (first.total, first.best_total) == (-5, -5)
    second = apply_event(board, first, ScoreSubmitted("b", "u", 3, None, 2), at(2))
    assert (second.total, second.best_total) == (-2, -2)


def test_the_personal_best_is_kept_across_worse_totals() -> None:
    board = Board("b", Order.DESC, Operator.SET)
    t = apply_event(board, None, ScoreSubmitted("b", "u", 50, None, 1), at(1))
    t = apply_event(board, t, ScoreSubmitted("b", "u", 20, None, 2), at(2))
    assert (t.total, t.best_total) == (20, 50)
    t = apply_event(board, t, ScoreSubmitted("b", "u", 70, None, 3), at(3))
    assert (t.total, t.best_total) == (70, 70)


def test_a_ban_hides_the_total_keeps_it_and_outlives_a_removal() -> None:
    board = Board("b")
    t = apply_event(board, None, ScoreSubmitted("b", "u", 5, None, 1, display_name="Ann", metadata='{"x":1}'), at(1))
    hidden = apply_event(board, t, UserHidden("b", "u", True, 2), at(2))
    assert (hidden.total, hidden.hidden, hidden.ranked, hidden.version) == (5, True, False, 2)
    again = apply_event(board, hidden, ScoreSubmitted("b", "u", 1, None, 3), at(3))
    assert (again.total, again.hidden, again.display_name, again.metadata) == (6, True, "Ann", '{"x":1}')
    removed = apply_event(board, again, UserRemoved("b", "u", 4), at(4))
    back = apply_event(board, removed, ScoreSubmitted("b", "u", 2, None, 5), at(5))
    assert (back.total, back.hidden, back.display_name) == (2, True, "")
    shown = apply_event(board, back, UserHidden("b", "u", False, 6), at(6))
    assert shown.ranked and shown.total == 2


def test_a_ban_before_any_score_waits_for_the_first() -> None:
    board = Board("b")
    banned = apply_event(board, None, UserHidden("b", "u", True, 1), at(1))
    assert banned.removed and banned.hidden
    first = apply_event(board, banned, ScoreSubmitted("b", "u", 9, None, 2), at(2))
    assert first.total == 9 and first.hidden and not first.ranked
