"""Time windows: periods that reset at exact instants in the board's zone (DST included),
ids that sort in time order and parse back, a cron evaluator checked against brute force,
and internal board names that no user board can take."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from zoneinfo import available_timezones

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from podium.domain.boards import ID_PATTERN, is_valid_id
from podium.domain.windows import (
    ALL_PERIOD,
    EPOCH,
    MAX_AT_US,
    MAX_WINDOWS,
    MIN_AT_US,
    Period,
    Window,
    WindowError,
    check_keep_periods,
    check_timezone,
    next_reset_us,
    parse_cron,
    parse_period,
    parse_window,
    parse_windows,
    period_at,
    period_board,
    period_boards_at,
    previous_periods,
    split_period_board,
)
from podium.errors import InvalidInput
from podium.plumbing import names

HOUR_US = 3600 * 10**6
DAY_US = 24 * HOUR_US


def us(text: str) -> int:
    """UTC microseconds of an ISO time with an offset, e.g. "2026-03-29T01:00Z"."""
    return (datetime.fromisoformat(text) - EPOCH) // timedelta(microseconds=1)


def at(spec: str, tz: str, when: str) -> Period:
    return period_at(parse_window(spec), tz, us(when))


def length_h(p: Period) -> float:
    assert p.end_us is not None
    return (p.end_us - p.start_us) / HOUR_US


# --- specs and settings -------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "normalised"),
    [
        ("all", "all"),
        ("day", "day"),
        ("week", "week"),
        ("month", "month"),
        ("cron:*/15 * * * *", "cron:*/15 * * * *"),
        ("cron:  30  9 * *   mon ", "cron:30 9 * * mon"),
        ("cron:@daily", "cron:@daily"),
    ],
)
def test_valid_specs_parse_and_normalise_their_whitespace(spec: str, normalised: str) -> None:
    assert parse_window(spec).spec == normalised


@pytest.mark.parametrize(
    "spec",
    [
        "",
        "Day",
        "hour",
        "cron",
        "cron:",
        "cron:* * * *",  # 4 fields
        "cron:* * * * * * *",  # 7 fields
        "cron:60 * * * * *",  # a second out of range
        "cron:60 * * * *",
        "cron:* 24 * * *",
        "cron:* * 0 * *",
        "cron:* * 32 * *",
        "cron:* * * 13 *",
        "cron:* * * * 8",
        "cron:5-1 * * * *",  # backwards range
        "cron:*/0 * * * *",
        "cron:1,,2 * * * *",
        "cron:* * * FOO *",
        "cron:* * * * MON-",
        "cron:0 0 L * *",
        "cron:0 0 ? * *",
        "cron:@reboot",
        "cron:0 0 30 2 *",  # never fires: Feb 30
        "cron:0 0 31 4,6,9,11 *",  # never fires: no 31st in those months
        "cron:0 0 30,31 2 *",
        "cron:" + "1," * 120 + "2 * * * *",  # too long
        None,
        ["day"],
    ],
)
def test_bad_specs_are_refused_with_an_input_error(spec: object) -> None:
    with pytest.raises(WindowError) as info:
        parse_window(spec)
    assert isinstance(info.value, ValueError) and isinstance(info.value, InvalidInput)
    assert info.value.code == "invalid_window" and info.value.message


def test_a_cron_that_fires_only_on_feb_29_or_on_either_day_field_is_accepted() -> None:
    leap = parse_window("cron:0 0 29 2 *")
    assert next_reset_us(leap, "UTC", us("2026-03-01T00:00Z")) == us("2028-02-29T00:00Z")
    either = parse_window("cron:0 0 30 2 MON")  # both day fields restricted: the 30th OR a Monday → Mondays in Feb
    assert either.cron is not None and either.cron.either_day
    assert next_reset_us(either, "UTC", us("2027-01-15T00:00Z")) == us("2027-02-01T00:00Z")  # a Monday
    assert next_reset_us(either, "UTC", us("2027-02-01T00:00Z")) == us("2027-02-08T00:00Z")


def test_never_fires_message_says_so() -> None:
    with pytest.raises(WindowError, match="never fires"):
        parse_window("cron:0 0 30 2 *")


@pytest.mark.parametrize("name", ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Pacific/Apia"])
def test_known_time_zones_pass(name: str) -> None:
    assert check_timezone(name) == name


@pytest.mark.parametrize(
    "name", ["", "Mars/Olympus", "europe/london", "../../etc/passwd", "/etc/localtime", "localtime", "Factory", 3, None]
)
def test_unknown_time_zones_are_refused(name: object) -> None:
    with pytest.raises(WindowError) as info:
        check_timezone(name)
    assert info.value.code == "invalid_timezone"


def test_period_at_refuses_an_unknown_zone() -> None:
    with pytest.raises(WindowError):
        period_at(parse_window("day"), "Nowhere/Special", 0)


@pytest.mark.parametrize("value", [0, 1, 7, 366])
def test_keep_periods_in_range_pass(value: int) -> None:
    assert check_keep_periods(value) == value


@pytest.mark.parametrize("value", [-1, 367, True, 7.0, "7", None])
def test_keep_periods_out_of_range_or_not_an_int_are_refused(value: object) -> None:
    with pytest.raises(WindowError):
        check_keep_periods(value)


@pytest.mark.parametrize("bad", [MIN_AT_US - 1, MAX_AT_US, True])
def test_instants_outside_the_supported_range_are_refused(bad: int) -> None:
    with pytest.raises(WindowError):
        period_at(parse_window("day"), "UTC", bad)


def test_parse_windows_refuses_the_same_schedule_twice_however_written() -> None:
    assert [w.spec for w in parse_windows(["all", "day", "cron:0 9 * * MON"])] == ["all", "day", "cron:0 9 * * MON"]
    with pytest.raises(WindowError, match="same periods"):
        parse_windows(["day", "day"])
    with pytest.raises(WindowError, match="same periods"):
        parse_windows(["cron:0 9 * * MON", "cron:0 9 * * 1"])
    with pytest.raises(WindowError, match="same periods"):
        parse_windows(["cron:0,30 * * * *", "cron:*/30 * * * *"])
    with pytest.raises(WindowError, match="at most"):
        parse_windows([f"cron:{m} 0 * * *" for m in range(MAX_WINDOWS + 1)])


# --- exact resets -------------------------------------------------------------------

ZONES = ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "America/Havana", "Australia/Lord_Howe"]
SPECS = ["day", "week", "month", "cron:*/15 * * * *", "cron:30 9 * * MON", "cron:0 0 1 */3 *", "cron:0 2 * * *"]


@pytest.mark.parametrize("tz", ZONES)
@pytest.mark.parametrize("spec", SPECS)
def test_a_score_at_the_reset_instant_is_in_the_new_period(spec: str, tz: str) -> None:
    window = parse_window(spec)
    p = period_at(window, tz, us("2026-11-27T12:34:56.789Z"))
    assert p.end_us is not None
    assert period_at(window, tz, p.start_us) == p
    assert period_at(window, tz, p.end_us - 1) == p
    after = period_at(window, tz, p.end_us)
    assert after.start_us == p.end_us and after.id != p.id and after.id > p.id
    before = period_at(window, tz, p.start_us - 1)
    assert before.end_us == p.start_us and before.id < p.id
    assert next_reset_us(window, tz, p.start_us) == p.end_us == next_reset_us(window, tz, p.end_us - 1)


def test_day_in_utc_and_an_exact_midnight() -> None:
    p = at("day", "UTC", "2026-11-27T00:00Z")
    assert p == Period("2026-11-27", us("2026-11-27T00:00Z"), us("2026-11-28T00:00Z"))
    assert at("day", "UTC", "2026-11-26T23:59:59.999999Z").id == "2026-11-26"


def test_all_has_one_period_that_never_ends() -> None:
    window = parse_window("all")
    assert period_at(window, "Asia/Kolkata", us("2026-11-27T00:00Z")) == ALL_PERIOD
    assert ALL_PERIOD.id == "all" and ALL_PERIOD.end_us is None and ALL_PERIOD.contains(MAX_AT_US - 1)
    assert next_reset_us(window, "UTC", 0) is None
    assert previous_periods(window, "UTC", us("2026-11-27T00:00Z"), 5) == []
    assert parse_period(window, "UTC", "all") == ALL_PERIOD
    with pytest.raises(WindowError):
        parse_period(window, "UTC", "2026-11-27")


# --- DST and odd offsets ------------------------------------------------------------


def test_london_spring_forward_day_is_23_hours_and_autumn_day_25() -> None:
    spring = at("day", "Europe/London", "2026-03-29T12:00Z")
    assert (spring.id, spring.start_us, spring.end_us) == (
        "2026-03-29",
        us("2026-03-29T00:00Z"),
        us("2026-03-29T23:00Z"),
    )
    autumn = at("day", "Europe/London", "2026-10-25T12:00Z")
    assert (autumn.start_us, autumn.end_us) == (us("2026-10-24T23:00Z"), us("2026-10-26T00:00Z"))
    assert (length_h(spring), length_h(autumn)) == (23, 25)
    # The hour that happens twice (01:00-02:00 local) belongs to the day it is on.
    assert at("day", "Europe/London", "2026-10-25T00:30Z").id == "2026-10-25"
    assert at("day", "Europe/London", "2026-10-25T01:30Z").id == "2026-10-25"


def test_new_york_days_around_both_transitions() -> None:
    spring = at("day", "America/New_York", "2026-03-08T12:00Z")
    assert (spring.start_us, spring.end_us) == (us("2026-03-08T05:00Z"), us("2026-03-09T04:00Z"))
    autumn = at("day", "America/New_York", "2026-11-01T12:00Z")
    assert (autumn.start_us, autumn.end_us) == (us("2026-11-01T04:00Z"), us("2026-11-02T05:00Z"))
    assert at("day", "America/New_York", "2026-11-01T03:59:59.999999Z").id == "2026-10-31"


def test_half_hour_zone_resets_at_local_midnight() -> None:
    p = at("day", "Asia/Kolkata", "2026-11-27T18:29:59.999999Z")
    assert (p.id, p.start_us, p.end_us) == ("2026-11-27", us("2026-11-26T18:30Z"), us("2026-11-27T18:30Z"))
    assert at("day", "Asia/Kolkata", "2026-11-27T18:30Z").id == "2026-11-28"
    assert at("week", "Asia/Kolkata", "2026-11-29T18:30Z").start_us == us("2026-11-29T18:30Z")  # Mon 00:00 IST
    assert at("cron:0 9 * * *", "Asia/Kolkata", "2026-11-27T03:30Z").start_us == us("2026-11-27T03:30Z")


def test_a_skipped_midnight_starts_the_day_when_the_clock_jumps() -> None:
    # Havana: 2026-03-08 00:00 -05 jumps to 01:00 -04; Santiago: 2026-09-06 00:00 -04 → 01:00 -03.
    havana = at("day", "America/Havana", "2026-03-08T12:00Z")
    assert (havana.start_us, length_h(havana)) == (us("2026-03-08T05:00Z"), 23)
    assert at("day", "America/Havana", "2026-03-08T04:59:59.999999Z").id == "2026-03-07"
    santiago = at("day", "America/Santiago", "2026-09-06T12:00Z")
    assert (santiago.start_us, length_h(santiago)) == (us("2026-09-06T04:00Z"), 23)
    assert parse_period(parse_window("day"), "America/Santiago", "2026-09-06") == santiago


def test_an_ambiguous_midnight_starts_the_day_at_its_first_occurrence() -> None:
    # Havana 2026-11-01: 01:00 -04 goes back to 00:00 -05, so local midnight happens twice.
    p = at("day", "America/Havana", "2026-11-01T12:00Z")
    assert (p.start_us, p.end_us) == (us("2026-11-01T04:00Z"), us("2026-11-02T05:00Z"))
    assert at("day", "America/Havana", "2026-11-01T05:30Z").id == "2026-11-01"  # the second 00:30


def test_a_fall_back_just_before_midnight_makes_the_day_before_25_hours() -> None:
    # Santiago 2026-04-04 24:00 -03 goes back to 23:00 -04: the 23:xx hour of the 4th is doubled.
    p = at("day", "America/Santiago", "2026-04-05T03:30Z")
    assert (p.id, p.start_us, p.end_us) == ("2026-04-04", us("2026-04-04T03:00Z"), us("2026-04-05T04:00Z"))


def test_a_day_the_zone_skipped_entirely_is_no_period() -> None:
    # Pacific/Apia went from 2011-12-29 23:59:59 -10 straight to 2011-12-31 00:00 +14.
    day = parse_window("day")
    before = at("day", "Pacific/Apia", "2011-12-30T09:59:59.999999Z")
    after = at("day", "Pacific/Apia", "2011-12-30T10:00Z")
    assert (before.id, after.id) == ("2011-12-29", "2011-12-31")
    assert before.end_us == after.start_us == us("2011-12-30T10:00Z")
    with pytest.raises(WindowError, match="skips"):
        parse_period(day, "Pacific/Apia", "2011-12-30")
    assert [p.id for p in previous_periods(day, "Pacific/Apia", after.start_us, 2)] == ["2011-12-29", "2011-12-28"]


def test_lord_howe_half_hour_dst() -> None:
    # Australia/Lord_Howe moves its clock by 30 minutes: 2026-10-04 02:00 +10:30 → 02:30 +11.
    p = at("day", "Australia/Lord_Howe", "2026-10-04T06:00Z")
    assert (p.id, length_h(p)) == ("2026-10-04", 23.5)


def test_cron_fire_in_a_spring_forward_gap_fires_when_the_clock_jumps() -> None:
    daily = parse_window("cron:30 2 * * *")
    p = period_at(daily, "America/New_York", us("2026-03-08T07:10Z"))
    # Scheduled 02:30 never shows; the period keeps the scheduled time as its id.
    assert (p.id, p.start_us, p.end_us) == ("2026-03-08T02:30", us("2026-03-08T07:00Z"), us("2026-03-09T06:30Z"))
    assert parse_period(daily, "America/New_York", "2026-03-08T02:30") == p
    london = period_at(parse_window("cron:30 1 * * *"), "Europe/London", us("2026-03-29T01:00Z"))
    assert (london.id, london.start_us) == ("2026-03-29T01:30", us("2026-03-29T01:00Z"))


def test_cron_fires_in_one_gap_collapse_into_the_last_one() -> None:
    quarter = parse_window("cron:*/15 * * * *")
    last_before = period_at(quarter, "America/New_York", us("2026-03-08T06:59Z"))
    first_after = period_at(quarter, "America/New_York", us("2026-03-08T07:00Z"))
    assert (last_before.id, last_before.end_us) == ("2026-03-08T01:45", us("2026-03-08T07:00Z"))
    assert (first_after.id, first_after.start_us) == ("2026-03-08T03:00", us("2026-03-08T07:00Z"))
    for skipped in ("2026-03-08T02:00", "2026-03-08T02:15", "2026-03-08T02:45"):
        with pytest.raises(WindowError, match="skips"):
            parse_period(quarter, "America/New_York", skipped)


def test_cron_fires_once_in_a_repeated_hour_on_the_first_pass() -> None:
    # New York 2026-11-01: 02:00 EDT (06:00Z) goes back to 01:00 EST.
    one_am = period_at(parse_window("cron:0 1 * * *"), "America/New_York", us("2026-11-01T06:30Z"))
    assert (one_am.id, one_am.start_us, one_am.end_us) == (
        "2026-11-01T01:00",
        us("2026-11-01T05:00Z"),
        us("2026-11-02T06:00Z"),
    )
    quarter = parse_window("cron:*/15 * * * *")
    p = period_at(quarter, "America/New_York", us("2026-11-01T06:20Z"))  # 01:20 EST, the second pass
    assert (p.id, p.start_us, p.end_us) == ("2026-11-01T01:45", us("2026-11-01T05:45Z"), us("2026-11-01T07:00Z"))


# --- weeks and months ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "week_id", "monday"),
    [
        ("2026-12-31T12:00Z", "2026-W53", "2026-12-28T00:00Z"),
        ("2027-01-03T23:59:59.999999Z", "2026-W53", "2026-12-28T00:00Z"),
        ("2027-01-04T00:00Z", "2027-W01", "2027-01-04T00:00Z"),
        ("2024-12-30T00:00Z", "2025-W01", "2024-12-30T00:00Z"),  # ISO year ahead of the calendar
        ("2024-12-29T23:59:59.999999Z", "2024-W52", "2024-12-23T00:00Z"),
        ("2021-01-03T12:00Z", "2020-W53", "2020-12-28T00:00Z"),  # ISO year behind
        ("2026-03-02T00:00Z", "2026-W10", "2026-03-02T00:00Z"),
    ],
)
def test_iso_weeks_across_the_year_end(when: str, week_id: str, monday: str) -> None:
    p = at("week", "UTC", when)
    assert (p.id, p.start_us, p.end_us) == (week_id, us(monday), us(monday) + 7 * DAY_US)


@pytest.mark.parametrize("bad", ["2025-W53", "2026-W54", "2026-W00", "2026-W1", "2026-w10", "2026-11"])
def test_week_ids_that_are_no_iso_week_are_refused(bad: str) -> None:
    with pytest.raises(WindowError):
        parse_period(parse_window("week"), "UTC", bad)


def test_week_ids_sort_across_the_year_end() -> None:
    ids = [p.id for p in previous_periods(parse_window("week"), "UTC", us("2027-01-20T00:00Z"), 5)]
    assert ids == ["2027-W02", "2027-W01", "2026-W53", "2026-W52", "2026-W51"]
    assert sorted(ids) == ids[::-1]


@pytest.mark.parametrize(
    ("month", "days"),
    [("2024-02", 29), ("2026-02", 28), ("2000-02", 29), ("2100-02", 28), ("2026-04", 30), ("2026-12", 31)],
)
def test_month_lengths(month: str, days: int) -> None:
    p = parse_period(parse_window("month"), "UTC", month)
    assert length_h(p) == 24 * days and p.end_us is not None
    assert period_at(parse_window("month"), "UTC", p.end_us - 1).id == month


def test_december_rolls_into_january_and_a_dst_month_loses_an_hour() -> None:
    assert at("month", "UTC", "2027-01-01T00:00Z").id == "2027-01"
    assert at("month", "UTC", "2026-12-31T23:59:59.999999Z").id == "2026-12"
    march = at("month", "America/New_York", "2026-03-15T00:00Z")
    assert (march.start_us, length_h(march)) == (us("2026-03-01T05:00Z"), 31 * 24 - 1)


# --- cron ---------------------------------------------------------------------------


def test_cron_field_syntax() -> None:
    assert parse_cron("*/15 * * * *").minutes == (0, 15, 30, 45)
    assert parse_cron("1-30/10 * * * *").minutes == (1, 11, 21)
    assert parse_cron("5/20 * * * *").minutes == (5, 25, 45)
    assert parse_cron("0 0 * * MON-FRI").weekdays == (1, 2, 3, 4, 5)
    assert parse_cron("0 0 * * sun,7").weekdays == (0,)
    assert parse_cron("0 0 * * 5-7").weekdays == (0, 5, 6)
    assert parse_cron("0 0 * * */2").weekdays == (0, 2, 4, 6)
    assert parse_cron("0 0 * jan,Mar-may *").months == (1, 3, 4, 5)
    assert parse_cron("@hourly") == parse_cron("0 * * * *")


def test_every_15_minutes() -> None:
    p = at("cron:*/15 * * * *", "UTC", "2026-11-27T18:07:03Z")
    assert (p.id, p.start_us, p.end_us) == ("2026-11-27T18:00", us("2026-11-27T18:00Z"), us("2026-11-27T18:15Z"))
    assert at("cron:*/15 * * * *", "UTC", "2026-11-27T18:15Z").id == "2026-11-27T18:15"


def test_weekly_on_monday_0930_local() -> None:
    window = parse_window("cron:30 9 * * MON")
    p = period_at(window, "Europe/London", us("2026-11-27T12:00Z"))  # a Friday
    assert (p.id, p.start_us, p.end_us) == ("2026-11-23T09:30", us("2026-11-23T09:30Z"), us("2026-11-30T09:30Z"))
    assert period_at(window, "Europe/London", us("2026-11-30T09:29:59.999999Z")).id == "2026-11-23T09:30"
    # Across the October clock change the week is an hour longer (09:30 BST → 09:30 GMT).
    q = period_at(window, "Europe/London", us("2026-10-20T12:00Z"))
    assert (q.id, length_h(q)) == ("2026-10-19T09:30", 7 * 24 + 1)


def test_quarterly_on_the_first_at_midnight() -> None:
    window = parse_window("cron:0 0 1 */3 *")
    ids = [p.id for p in previous_periods(window, "UTC", us("2026-11-27T00:00Z"), 4)]
    assert at("cron:0 0 1 */3 *", "UTC", "2026-11-27T00:00Z").id == "2026-10-01T00:00"
    assert ids == ["2026-07-01T00:00", "2026-04-01T00:00", "2026-01-01T00:00", "2025-10-01T00:00"]
    assert next_reset_us(window, "UTC", us("2026-11-27T00:00Z")) == us("2027-01-01T00:00Z")


def test_either_day_field_when_both_are_restricted_and_both_when_one_starts_with_a_star() -> None:
    either = parse_window("cron:0 0 1,15 * MON")  # the 1st, the 15th and every Monday
    starts = [p.id for p in previous_periods(either, "UTC", us("2026-06-17T00:00Z"), 5)]
    assert starts == [
        "2026-06-08T00:00",
        "2026-06-01T00:00",
        "2026-05-25T00:00",
        "2026-05-18T00:00",
        "2026-05-15T00:00",
    ]
    both = parse_window("cron:0 0 */2 * MON")  # odd days that are Mondays (cronie)
    starts = [p.id for p in previous_periods(both, "UTC", us("2026-06-17T00:00Z"), 3)]
    assert starts == ["2026-06-01T00:00", "2026-05-25T00:00", "2026-05-11T00:00"]


def test_a_leap_day_cron_waits_eight_years_across_2100() -> None:
    p = at("cron:0 0 29 2 *", "UTC", "2100-06-01T00:00Z")
    assert (p.id, p.end_us) == ("2096-02-29T00:00", us("2104-02-29T00:00Z"))


CRON_FIELD = {
    "minute": (0, 59),
    "hour": (0, 23),
    "dom": (1, 31),
    "month": (1, 12),
    "dow": (0, 7),
}


@st.composite
def cron_field(draw: st.DrawFn, low: int, high: int) -> str:
    def one() -> str:
        kind = draw(st.sampled_from(["*", "*/", "n", "a-b", "a-b/", "n/"]))
        a = draw(st.integers(low, high))
        b = draw(st.integers(a, high))
        step = draw(st.integers(1, max(1, high - low)))
        return {
            "*": "*",
            "*/": f"*/{step}",
            "n": f"{a}",
            "a-b": f"{a}-{b}",
            "a-b/": f"{a}-{b}/{step}",
            "n/": f"{a}/{step}",
        }[kind]

    return ",".join(one() for _ in range(draw(st.integers(1, 3))))


@st.composite
def cron_exprs(draw: st.DrawFn) -> str:
    return " ".join(draw(cron_field(*bounds)) for bounds in CRON_FIELD.values())


@st.composite
def cron_exprs_with_seconds(draw: st.DrawFn) -> str:
    return f"{draw(cron_field(0, 59))} {draw(cron_exprs())}"


def naive_walls() -> st.SearchStrategy[datetime]:
    return st.datetimes(min_value=datetime(1975, 1, 1), max_value=datetime(2090, 1, 1))


@settings(max_examples=300, deadline=None)
@given(expr=cron_exprs(), wall=naive_walls())
def test_cron_next_and_previous_agree_with_each_other_and_with_brute_force(expr: str, wall: datetime) -> None:
    try:
        cron = parse_cron(expr)
    except WindowError:
        assume(False)
        return
    nxt = cron.next_after(wall)
    prev = cron.at_or_before(wall)
    assert cron.matches(nxt) and cron.matches(prev)
    assert prev <= wall < nxt
    # Nothing fires strictly between: each walker confirms the other.
    assert cron.at_or_before(nxt - timedelta(minutes=1)) == prev
    assert cron.next_after(prev) == nxt
    if nxt - prev <= timedelta(days=2):  # small enough to check every minute
        t = prev + timedelta(minutes=1)
        while t < nxt:
            assert not cron.matches(t), t
            t += timedelta(minutes=1)


# --- ids, round trips, contiguity (properties) --------------------------------------

ALL_ZONES = sorted(available_timezones() - {"localtime", "Factory"})
PROPERTY_SPECS = [
    "day",
    "week",
    "month",
    "cron:*/15 * * * *",
    "cron:30 9 * * MON",
    "cron:0 0 1 */3 *",
    "cron:30 2 * * *",
    "cron:0 0,1 * * *",
    "cron:0 0 29 2 *",
    "cron:0 0 1,15 * FRI",
]
windows = st.sampled_from(PROPERTY_SPECS).map(parse_window)
zones = st.one_of(st.sampled_from(ZONES), st.sampled_from(ALL_ZONES))
# Mostly the years a leaderboard lives in; sometimes anywhere in the supported range.
instants = st.one_of(
    st.integers(us("1970-01-01T00:00Z"), us("2100-01-01T00:00Z")), st.integers(MIN_AT_US, MAX_AT_US - 1)
)


@settings(max_examples=500, deadline=None)
@given(window=windows, tz=zones, when=instants)
def test_every_instant_is_in_its_period_and_the_period_of_its_start_is_itself(
    window: Window, tz: str, when: int
) -> None:
    p = period_at(window, tz, when)
    assert p.end_us is not None
    assert p.start_us <= when < p.end_us
    # (The first and last periods of the supported range may stick out of it.)
    if p.start_us >= MIN_AT_US:
        assert period_at(window, tz, p.start_us) == p
    if p.end_us < MAX_AT_US:
        assert period_at(window, tz, p.end_us - 1) == p
        assert period_at(window, tz, p.end_us).start_us == p.end_us
    assert ID_PATTERN.fullmatch(p.id)
    assert parse_period(window, tz, p.id) == p


@settings(max_examples=200, deadline=None)
@given(
    window=windows, tz=zones, when=st.integers(us("1971-01-01T00:00Z"), us("2100-01-01T00:00Z")), n=st.integers(0, 8)
)
def test_previous_periods_are_contiguous_newest_first_with_ids_in_time_order(
    window: Window, tz: str, when: int, n: int
) -> None:
    current = period_at(window, tz, when)
    previous = previous_periods(window, tz, when, n)
    assert len(previous) == n
    chain = [current, *previous]
    for newer, older in itertools.pairwise(chain):
        assert older.end_us == newer.start_us
        assert older.id < newer.id
        assert parse_period(window, tz, older.id) == older


@settings(max_examples=300, deadline=None)
@given(window=windows, tz=zones, a=instants, b=instants)
def test_ids_sort_like_the_instants_they_hold(window: Window, tz: str, a: int, b: int) -> None:
    pa, pb = period_at(window, tz, min(a, b)), period_at(window, tz, max(a, b))
    assert pa.id <= pb.id
    assert (pa.id == pb.id) == (pa == pb)


@pytest.mark.parametrize(
    ("spec", "bad"),
    [
        ("day", "2026-02-30"),
        ("day", "2026-1-05"),
        ("day", "2026-11-27T00:00"),
        ("day", "all"),
        ("month", "2026-13"),
        ("month", "2026-11-01"),
        ("cron:0 18 * * *", "2026-11-27T18:01"),  # not a fire time
        ("cron:0 18 * * *", "2026-11-27T18:00:00"),
        ("cron:0 18 * * *", "2026-11-27"),
        ("day", "1890-01-01"),  # outside the supported years
        ("day", "9500-01-01"),
    ],
)
def test_ids_that_name_no_period_are_refused(spec: str, bad: str) -> None:
    with pytest.raises(WindowError) as info:
        parse_period(parse_window(spec), "UTC", bad)
    assert info.value.code == "invalid_period"


# --- internal board names -----------------------------------------------------------


def test_period_board_names() -> None:
    assert period_board("arena", "all", "all") == "arena"
    assert period_board("arena", "day", "2026-11-27") == "arena~day~2026-11-27"
    assert period_board("arena", "week", "2026-W48") == "arena~week~2026-W48"
    cron = period_board("arena", "cron:0 18 * * *", "2026-11-27T18:00")
    assert cron.startswith("arena~cron") and " " not in cron and "*" not in cron
    assert split_period_board(cron) == ("arena", parse_window("cron:0 18 * * *").code, "2026-11-27T18:00")
    with pytest.raises(WindowError):
        period_board("arena", "day", "2026-W48")  # a week id on a day window
    with pytest.raises(WindowError):
        period_board("bad board", "day", "2026-11-27")


def test_a_cron_windows_storage_code_is_pinned() -> None:
    # The code names stored periods: a change here orphans every cron board's data.
    assert parse_window("cron:0 18 * * *").code == "cron5a52d50e0b"
    assert parse_window("cron:0 18 * * *").code == parse_window("cron:0 18 */1 * 0-7").code


def test_plain_and_generation_names_are_no_period_boards() -> None:
    assert split_period_board("arena") is None
    assert split_period_board(names.generation_board("arena", 3)) is None
    day_board = period_board("arena", "day", "2026-11-27")
    assert split_period_board(names.generation_board(day_board, 2)) is None
    assert names.generation_board(day_board, 2) != day_board
    for odd in ("a~day~2026-11-27~x", "a~hour~2026-11-27", "a~day~2026-W48", "~day~2026-11-27", "a~cronXYZ~1"):
        assert split_period_board(odd) is None


def test_one_submission_updates_each_windows_current_period() -> None:
    ws = parse_windows(["all", "day", "week", "cron:0 */6 * * *"])
    assert period_boards_at("arena", ws, "Asia/Kolkata", us("2026-11-27T20:00Z")) == [
        "arena",
        "arena~day~2026-11-28",
        "arena~week~2026-W48",
        f"arena~{ws[3].code}~2026-11-28T00:00",
    ]


user_ids = st.from_regex(ID_PATTERN, fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(board=user_ids, window=windows, tz=zones, when=instants)
def test_period_boards_round_trip_and_never_collide_with_user_boards(
    board: str, window: Window, tz: str, when: int
) -> None:
    p = period_at(window, tz, when)
    name = period_board(board, window, p.id)
    assert split_period_board(name) == (board, window.code, p.id)
    assert not is_valid_id(name)  # no user can create a board with this name
    assert name.count("~") == 2 and all(c not in name for c in " *{}/")


@given(name=user_ids)
def test_no_user_board_name_is_taken_for_a_period_board(name: str) -> None:
    assert split_period_board(name) is None


# --- a seconds field (six fields, the second first) -----------------------------------


@settings(max_examples=200, deadline=None)
@given(expr=cron_exprs_with_seconds(), wall=naive_walls())
def test_a_cron_with_seconds_walks_like_brute_force(expr: str, wall: datetime) -> None:
    try:
        cron = parse_cron(expr)
    except WindowError:
        assume(False)
        return
    nxt, prev = cron.next_after(wall), cron.at_or_before(wall)
    assert cron.matches(nxt) and cron.matches(prev)
    assert prev <= wall.replace(microsecond=0) and wall < nxt
    assert cron.at_or_before(nxt - timedelta(seconds=1)) == prev
    assert cron.next_after(prev) == nxt
    if nxt - prev <= timedelta(hours=2):  # small enough to check every second
        t = prev + timedelta(seconds=1)
        while t < nxt:
            assert not cron.matches(t), t
            t += timedelta(seconds=1)


def test_a_two_second_cron_window_has_two_second_periods_with_second_ids() -> None:
    window = parse_window("cron:*/2 * * * * *")
    period = period_at(window, "UTC", us("2026-03-01T09:30:03Z"))
    assert period.id == "2026-03-01T09:30:02"
    assert (period.start_us, period.end_us) == (us("2026-03-01T09:30:02Z"), us("2026-03-01T09:30:04Z"))
    assert parse_period(window, "UTC", period.id) == period
    with pytest.raises(WindowError):
        parse_period(window, "UTC", "2026-03-01T09:30:03")  # not a fire time
    with pytest.raises(WindowError):
        parse_period(window, "UTC", "2026-03-01T09:30")  # a minute id names no period here
    stored = period_board("arena", window, period.id)
    assert split_period_board(stored) == ("arena", window.code, period.id)
    [before] = previous_periods(window, "UTC", period.start_us, 1)
    assert before.id == "2026-03-01T09:30:00" and before.end_us == period.start_us


def test_a_seconds_field_of_zero_is_the_five_field_schedule() -> None:
    # Same periods, same ids, same storage code: "0 <five fields>" adds nothing.
    five, six = parse_window("cron:0 18 * * *"), parse_window("cron:0 0 18 * * *")
    assert six.code == five.code == "cron5a52d50e0b"
    at = us("2026-11-27T19:00Z")
    assert period_at(six, "UTC", at) == period_at(five, "UTC", at)
