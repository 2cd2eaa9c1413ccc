"""A tournament's periods: active or closed at an instant, the period's end, the next start
(podium/domain/tournament_periods.py), and the setting's checks (domain/tournaments.py)."""

from __future__ import annotations

import pytest

from podium.domain.tournament_periods import ONCE, active_period, check_reset, next_period, period_by_id
from podium.domain.tournaments import Tournament, check_tournament, instant_text, instant_us


def at(text: str) -> int:
    return instant_us(text)


def made(**body: object) -> Tournament:
    checked = check_tournament(body)
    assert isinstance(checked, Tournament), checked
    return checked


def test_a_one_shot_is_active_from_its_start_for_its_duration() -> None:
    cup = made(start="2026-12-07T10:00:00Z", duration_s=3600)
    assert active_period(cup, "UTC", at("2026-12-07T09:59:59Z")) is None
    period = active_period(cup, "UTC", at("2026-12-07T10:00:00Z"))
    assert period is not None and period.id == ONCE
    assert instant_text(period.end_us) == "2026-12-07T11:00:00Z"
    assert active_period(cup, "UTC", at("2026-12-07T10:59:59.999999Z")) == period
    assert active_period(cup, "UTC", at("2026-12-07T11:00:00Z")) is None  # [start, end)
    assert next_period(cup, "UTC", at("2026-12-07T09:00:00Z")) == period
    assert next_period(cup, "UTC", at("2026-12-07T10:30:00Z")) is None  # no second period


def test_an_end_cuts_the_duration_and_stands_for_it() -> None:
    both = made(start="2026-12-07T10:00:00Z", duration_s=7200, end="2026-12-07T10:30:00+00:00")
    period = active_period(both, "UTC", at("2026-12-07T10:10:00Z"))
    assert period is not None and instant_text(period.end_us) == "2026-12-07T10:30:00Z"
    only_end = made(start="2026-12-07T10:00:00+01:00", end="2026-12-07T10:30:00Z")
    period = active_period(only_end, "UTC", at("2026-12-07T09:00:00Z"))
    assert period is not None and instant_text(period.start_us) == "2026-12-07T09:00:00Z"


def test_a_reset_opens_a_period_at_each_fire_time_for_its_duration() -> None:
    daily = made(start="2026-12-01T00:00:00Z", duration_s=3600, reset="0 18 * * *")
    period = active_period(daily, "UTC", at("2026-12-07T18:30:00Z"))
    assert period is not None and period.id == "2026-12-07T18:00"
    assert instant_text(period.end_us) == "2026-12-07T19:00:00Z"
    assert active_period(daily, "UTC", at("2026-12-07T19:00:00Z")) is None  # closed till the next fire
    upcoming = next_period(daily, "UTC", at("2026-12-07T19:00:00Z"))
    assert upcoming is not None and upcoming.id == "2026-12-08T18:00"
    # During a period, the next one is the following fire's.
    following = next_period(daily, "UTC", at("2026-12-07T18:30:00Z"))
    assert following is not None and instant_text(following.start_us) == "2026-12-08T18:00:00Z"
    assert period_by_id(daily, "UTC", "2026-12-07T18:00") == period
    assert period_by_id(daily, "UTC", "2026-12-07T17:00") is None  # not a fire time


def test_a_reset_without_a_duration_runs_to_the_next_fire_and_stops_at_the_end() -> None:
    hourly = made(start="2026-12-07T10:20:00Z", end="2026-12-07T12:30:00Z", reset="@hourly")
    first = active_period(hourly, "UTC", at("2026-12-07T10:30:00Z"))
    assert first is not None and first.id == "2026-12-07T10:00"
    assert instant_text(first.start_us) == "2026-12-07T10:20:00Z"  # not before the start
    assert instant_text(first.end_us) == "2026-12-07T11:00:00Z"
    last = active_period(hourly, "UTC", at("2026-12-07T12:10:00Z"))
    assert last is not None and instant_text(last.end_us) == "2026-12-07T12:30:00Z"
    assert active_period(hourly, "UTC", at("2026-12-07T12:30:00Z")) is None
    assert next_period(hourly, "UTC", at("2026-12-07T12:10:00Z")) is None
    before = next_period(hourly, "UTC", at("2026-12-07T09:00:00Z"))
    assert before is not None and instant_text(before.start_us) == "2026-12-07T10:20:00Z"


def test_a_reset_follows_the_boards_time_zone_across_a_dst_change() -> None:
    # Paris leaves summer time on 2026-10-25: the 09:00 fire is 07:00 UTC before, 08:00 after.
    daily = made(start="2026-10-20T00:00:00Z", duration_s=600, reset="0 9 * * *")
    before = active_period(daily, "Europe/Paris", at("2026-10-24T07:05:00Z"))
    after = active_period(daily, "Europe/Paris", at("2026-10-26T08:05:00Z"))
    assert before is not None and before.id == "2026-10-24T09:00"
    assert after is not None and after.id == "2026-10-26T09:00"
    assert active_period(daily, "Europe/Paris", at("2026-10-26T07:05:00Z")) is None


def test_a_reset_needs_its_window_on_the_board() -> None:
    weekly = made(start="2026-12-07T00:00:00Z", duration_s=60, reset="0  0 * *  MON")
    assert weekly.reset == "0 0 * * MON"
    assert check_reset(weekly, ("all", "cron:0 0 * * MON")) is None
    why = check_reset(weekly, ("all", "week"))
    assert why is not None and "cron:0 0 * * MON" in why


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("soon", "JSON object"),
        ({"duration_s": 60}, "start"),
        ({"start": "2026-12-07T10:00:00"}, "offset"),
        ({"start": "2026-12-07T10:00:00Z"}, "duration_s or end"),
        ({"start": "2026-12-07T10:00:00Z", "duration_s": 0}, "duration_s"),
        ({"start": "2026-12-07T10:00:00Z", "end": "2026-12-07T09:00:00Z"}, "after"),
        ({"start": "2026-12-07T10:00:00Z", "duration_s": 60, "max_attempts": 0}, "max_attempts"),
        ({"start": "2026-12-07T10:00:00Z", "duration_s": 60, "max_players": 5}, "join_required"),
        ({"start": "2026-12-07T10:00:00Z", "duration_s": 60, "join_required": "yes"}, "join_required"),
        ({"start": "2026-12-07T10:00:00Z", "duration_s": 60, "prize": 1}, "unknown"),
        ({"start": "2026-12-07T10:00:00Z", "duration_s": 60, "reset": ""}, "cron"),
    ],
)
def test_a_bad_setting_says_what_is_wrong(body: object, says: str) -> None:
    why = check_tournament(body)
    assert isinstance(why, str) and says in why


def test_a_setting_reads_back_as_written() -> None:
    body = {
        "start": "2026-12-07T10:00:00Z",
        "duration_s": 60,
        "end": "2027-01-01T00:00:00.500000Z",
        "reset": "@daily",
        "max_players": 10,
        "join_required": True,
        "max_attempts": 3,
    }
    cup = made(**body)
    assert cup.to_json() == body
    assert Tournament.from_json(cup.to_json()) == cup
