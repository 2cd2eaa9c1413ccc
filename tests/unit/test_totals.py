from __future__ import annotations

from podium.domain.boards import Board, Operator, Order
from podium.domain.ordering import sort_key
from podium.domain.totals import LogPosition, ScoreSubmitted, Total, UserRemoved, apply_event, is_newer, is_redelivery

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
    desc = sorted([(5, 2, "a"), (9, 3, "b"), (5, 1, "c"), (5, 1, "b")], key=lambda x: sort_key(Order.DESC, *x))
    assert [u for _, _, u in desc] == ["b", "b", "c", "a"]
    asc = sorted([(5, 2, "a"), (9, 3, "b"), (1, 9, "c")], key=lambda x: sort_key(Order.ASC, *x))
    assert [u for _, _, u in asc] == ["c", "a", "b"]
