"""Cohorts' and tiers' arithmetic (domain/cohorts.py): the settings checked, arrival order
filling each cohort in turn, and each entry's tier, ties by place included."""

from __future__ import annotations

import pytest

from podium.domain.cohorts import Tier, check_cohort_size, check_tiers, cohort_of_seat, tier_of


def test_seats_fill_each_cohort_in_turn() -> None:
    assert [cohort_of_seat(s, 3) for s in range(7)] == [1, 1, 1, 2, 2, 2, 3]


@pytest.mark.parametrize("bad", [0, 1, -3, 10_001, 2.5, "5", True])
def test_a_cohort_size_out_of_range_is_refused(bad: object) -> None:
    assert isinstance(check_cohort_size(bad), str)


def test_a_cohort_size_in_range_is_kept() -> None:
    assert check_cohort_size(None) is None
    assert check_cohort_size(50) == 50


@pytest.mark.parametrize(
    ("tiers", "says"),
    [
        ([{"name": "gold"}], "exactly one"),
        ([{"name": "gold", "min_score": 5, "top_percent": 10}], "exactly one"),
        ([{"name": "gold", "top_percent": 0}], "top_percent"),
        ([{"name": "gold", "top_percent": 101}], "top_percent"),
        ([{"name": "", "min_score": 5}], "name"),
        ([{"name": "gold", "min_score": 5}, {"name": "gold", "min_score": 1}], "repeat"),
        ([{"name": "gold", "min_score": 5, "colour": "yellow"}], "colour"),
        ({"name": "gold"}, "list"),
        ([{"name": "gold", "min_score": 2**53}], "min_score"),
    ],
)
def test_a_bad_tier_list_says_why(tiers: object, says: str) -> None:
    why = check_tiers(tiers)
    assert isinstance(why, str) and says in why


def test_the_first_tier_reached_wins_by_score_and_by_order() -> None:
    tiers = (Tier("gold", min_score=100), Tier("silver", min_score=50))
    assert [tier_of(tiers, True, s, 1, 10) for s in (150, 100, 99, 50, 3)] == ["gold", "gold", "silver", "silver", None]
    # On an ascending board (a race time) the score reaches the cut-off from below.
    times = (Tier("fast", min_score=60), Tier("ok", min_score=120))
    assert [tier_of(times, False, s, 1, 10) for s in (45, 60, 90, 200)] == ["fast", "fast", "ok", None]


def test_a_tier_by_place_takes_the_ceiling_of_its_share() -> None:
    tiers = (Tier("gold", top_percent=10), Tier("silver", top_percent=50))
    # 25 users: the top 10% is ceil(2.5) = 3 places, the top half ceil(12.5) = 13.
    got = [tier_of(tiers, True, 0, r, 25) for r in (1, 3, 4, 13, 14, 25)]
    assert got == ["gold", "gold", "silver", "silver", None, None]
    assert tier_of((Tier("gold", top_percent=1),), True, 0, 1, 3) == "gold"  # the best is in every such tier
    assert tier_of((Tier("third", top_percent=33.3),), True, 0, 1, 3) == "third"
    assert tier_of((Tier("third", top_percent=33.4),), True, 0, 2, 3) == "third"  # ceil(1.002) = 2


def test_users_who_share_a_rank_share_a_tier() -> None:
    # competition ranks 1, 2, 2, 2, 5 of 5 users, top 40% (2 places): the three at rank 2 are all in.
    tiers = (Tier("top", top_percent=40),)
    assert [tier_of(tiers, True, 0, r, 5) for r in (1, 2, 2, 2, 5)] == ["top", "top", "top", "top", None]


def test_a_mixed_list_checks_in_order() -> None:
    tiers = (Tier("champion", top_percent=1), Tier("gold", min_score=1000), Tier("rest", top_percent=100))
    assert tier_of(tiers, True, 10, 1, 500) == "champion"
    assert tier_of(tiers, True, 5000, 7, 500) == "gold"
    assert tier_of(tiers, True, 5, 400, 500) == "rest"
