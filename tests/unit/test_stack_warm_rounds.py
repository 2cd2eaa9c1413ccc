"""When the stack's warm-up stops: after enough rounds, once the last rounds all answered
within the mark; never on one fast round, nor on rounds with a submission not yet visible."""

from __future__ import annotations

from podium.tools.stack_warm import Round, WarmUp, settled

WARM = WarmUp(settle_ms=300, min_rounds=3)


def rounds(*slowest: float, late: int = 0) -> list[Round]:
    return [Round(i + 1, 1050, s, s / 2, late) for i, s in enumerate(slowest)]


def test_two_warm_rounds_in_a_row_after_the_least_rounds_settle_it() -> None:
    assert settled(rounds(900, 250, 280), WARM)


def test_fewer_rounds_than_the_least_do_not_settle_it_however_fast() -> None:
    assert not settled(rounds(100, 100), WARM)


def test_one_slow_round_among_the_last_two_keeps_it_going() -> None:
    assert not settled(rounds(100, 100, 900, 100), WARM)
    assert not settled(rounds(100, 100, 100, 301), WARM)


def test_a_round_with_a_submission_not_visible_in_time_is_not_warm() -> None:
    assert not settled(rounds(100, 100, 100, late=1), WARM)
