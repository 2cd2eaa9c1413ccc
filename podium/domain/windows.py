"""Time windows of a board: which period a score falls in, and where each period is kept.

A board declares the windows it keeps ("all", "day", "week", "month" or
"cron:<minute hour day-of-month month day-of-week>", or with a leading seconds field,
"cron:<second minute hour day-of-month month day-of-week>"), a time zone and how many
finished periods stay readable. One score submission updates the current period
of each window; each period is stored as a board of its own (`period_board`).

A period is [start_us, end_us) in UTC microseconds. Every window but "all" is a
sequence of *labels*, local wall-clock times in the board's zone: midnights for
"day", Monday midnights (ISO weeks) for "week", the 1st at midnight for "month",
the fire times for cron. The period a label names runs from the label's instant
to the next label's instant, so a score at exactly the reset instant is in the
new period.

Time zones and DST. A label's instant is *the first instant at which the local
clock reads the label or later*:
  - a wall time that exists once: that instant;
  - one that occurs twice (clocks go back): its first occurrence (zoneinfo fold=0).
    A cron fire in the repeated hour happens once, on the first pass, as cronie
    does; a day with a repeated hour is 25 hours long;
  - one the clock skips (clocks go forward): the instant the clock jumps, i.e. the
    end of the gap. A day whose midnight is skipped (America/Santiago, Asia/Beirut)
    starts at its first existing minute; a cron fire at 02:30 on a US spring-forward
    day fires at 03:00 EDT. Labels that fall in the same gap share an instant; all
    but the last of them are empty and are no period at all (cron "*/15" at the US
    spring-forward gap: 02:00 … 02:45 vanish and "03:00" starts at the jump;
    Pacific/Apia has no 2011-12-30).
Starts are thus never decreasing in the label, periods are contiguous, and each
instant belongs to exactly one period. Period ids are the label as written (for
cron the scheduled local fire time, even when the clock skipped it), fixed-width,
so they sort in time order as strings.

Cron follows cronie (Vixie cron): names (JAN-DEC, SUN-SAT) in any case, 0 or 7 for
Sunday, lists, ranges, steps ("*/15", "1-30/5", and "5/15" meaning 5-max/15),
"@hourly"/"@daily"/"@midnight"/"@weekly"/"@monthly"/"@yearly"/"@annually". Six fields
put a second first, as Quartz and Spring do ("*/2 * * * * *": every two seconds): short
periods for tests and demos, whose ids carry the second ("2026-03-01T09:30:02"). If the
day-of-month or the day-of-week field starts with "*", a day must match both;
otherwise either ("0 0 1,15 * MON": the 1st, the 15th and every Monday). An
expression that can never fire (Feb 30) is refused.

Pure: no I/O beyond reading the system's time zone database through zoneinfo.
"""

from __future__ import annotations

import bisect
import calendar
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from podium.domain.boards import is_valid_id
from podium.errors import InvalidInput

DEFAULT_TIMEZONE = "UTC"
DEFAULT_KEEP_PERIODS = 7
MAX_KEEP_PERIODS = 366  # a year of days
MAX_WINDOWS = 8  # one submission writes once per window: bounds the write amplification
MAX_SPEC_CHARS = 200

# The instants the module answers for: the years 1900 to 8999. Wide of any real score
# (a board's first period may start before 1970 in a zone east of UTC), and it leaves
# the label arithmetic (a cron may wait 8 years for a Feb 29) inside datetime's years.
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MIN_AT_US = (datetime(1900, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)
MAX_AT_US = (datetime(9000, 1, 1, tzinfo=UTC) - EPOCH) // timedelta(microseconds=1)

# Separates a board, a window and a period in an internal board name. Board ids never
# hold '~' (`boards.ID_PATTERN`), so no user board can be named like a period board.
# names.generation_board also uses '~' ("<board>~g<N>"): a period board has exactly two
# separators, a plain board's generation one, a period board's generation three.
SEPARATOR = "~"
ALL_ID = "all"

_US = timedelta(microseconds=1)
_SECOND = timedelta(seconds=1)
_MINUTE = timedelta(minutes=1)
_DAY = timedelta(days=1)


class WindowError(InvalidInput, ValueError):
    """A window spec, time zone, period id or setting that can never be valid (API: 400)."""

    code = "invalid_window"


class WindowKind(StrEnum):
    ALL = "all"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    CRON = "cron"


@dataclass(frozen=True, slots=True)
class Period:
    """[start_us, end_us) in UTC microseconds; end_us None: never ends (window "all")."""

    id: str
    start_us: int
    end_us: int | None

    def contains(self, at_us: int) -> bool:
        return self.start_us <= at_us and (self.end_us is None or at_us < self.end_us)


ALL_PERIOD = Period(ALL_ID, MIN_AT_US, None)


# --- cron -------------------------------------------------------------------------

# English names whatever the locale (calendar.month_abbr follows the locale).
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_MONTH_NAMES = {name: i for i, name in enumerate(_MONTHS, 1)}
_DOW_NAMES = {name: i for i, name in enumerate(("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"))}
_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# Longest each month can be; Feb 29 comes round in leap years. Every (month, day) falls
# on every weekday within the 400-year Gregorian cycle, so this table alone decides
# whether an expression can ever fire.
_MONTH_MAX_DAYS = (0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    low: int
    high: int
    names: dict[str, int] | None = None


_SECONDS = _Field("second", 0, 59)
_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field("month", 1, 12, _MONTH_NAMES),
    _Field("day of week", 0, 7, _DOW_NAMES),  # 0 and 7: Sunday
)


@dataclass(frozen=True, slots=True)
class Cron:
    """A parsed cron expression, evaluated on naive local wall times."""

    minutes: tuple[int, ...]  # sorted, as are the others
    hours: tuple[int, ...]
    days: tuple[int, ...]  # day of month
    months: tuple[int, ...]
    weekdays: tuple[int, ...]  # 0 = Sunday … 6 = Saturday
    either_day: bool  # both day fields restricted: a day matches if either does
    seconds: tuple[int, ...] = (0,)  # a 5-field expression fires at second 0

    @property
    def has_seconds(self) -> bool:
        """Written with a seconds field that fires other than once a minute at :00."""
        return self.seconds != (0,)

    def day_matches(self, day: date) -> bool:
        by_date = day.day in self.days
        by_weekday = day.isoweekday() % 7 in self.weekdays
        return (by_date or by_weekday) if self.either_day else (by_date and by_weekday)

    def matches(self, wall: datetime) -> bool:
        return (
            wall.second in self.seconds
            and wall.microsecond == 0
            and wall.minute in self.minutes
            and wall.hour in self.hours
            and wall.month in self.months
            and self.day_matches(wall.date())
        )

    def next_after(self, wall: datetime) -> datetime:
        """The first fire time strictly after `wall`. Walks field by field (month, day,
        hour, minute, second), so a long gap costs a few steps per skipped month, not per minute."""
        t = wall.replace(microsecond=0, fold=0) + _SECOND
        while True:
            if t.month not in self.months:
                i = bisect.bisect_right(self.months, t.month)
                t = (
                    datetime(t.year, self.months[i], 1)
                    if i < len(self.months)
                    else datetime(t.year + 1, self.months[0], 1)
                )
            elif not self.day_matches(t.date()):
                t = datetime(t.year, t.month, t.day) + _DAY
            elif t.hour not in self.hours:
                i = bisect.bisect_right(self.hours, t.hour)
                t = (
                    t.replace(hour=self.hours[i], minute=0, second=0)
                    if i < len(self.hours)
                    else datetime(t.year, t.month, t.day) + _DAY
                )
            elif t.minute not in self.minutes:
                i = bisect.bisect_right(self.minutes, t.minute)
                t = (
                    t.replace(minute=self.minutes[i], second=0)
                    if i < len(self.minutes)
                    else t.replace(minute=0, second=0) + timedelta(hours=1)
                )
            elif t.second not in self.seconds:
                i = bisect.bisect_right(self.seconds, t.second)
                t = t.replace(second=self.seconds[i]) if i < len(self.seconds) else t.replace(second=0) + _MINUTE
            else:
                return t

    def at_or_before(self, wall: datetime) -> datetime:
        """The last fire time at or before `wall` (the mirror of `next_after`)."""
        t = wall.replace(microsecond=0, fold=0)
        while True:
            if t.month not in self.months:
                i = bisect.bisect_left(self.months, t.month) - 1
                year, month = (t.year, self.months[i]) if i >= 0 else (t.year - 1, self.months[-1])
                t = datetime(year, month, calendar.monthrange(year, month)[1], 23, 59, 59)
            elif not self.day_matches(t.date()):
                t = datetime(t.year, t.month, t.day) - _SECOND
            elif t.hour not in self.hours:
                i = bisect.bisect_left(self.hours, t.hour) - 1
                t = (
                    t.replace(hour=self.hours[i], minute=59, second=59)
                    if i >= 0
                    else datetime(t.year, t.month, t.day) - _SECOND
                )
            elif t.minute not in self.minutes:
                i = bisect.bisect_left(self.minutes, t.minute) - 1
                t = t.replace(minute=self.minutes[i], second=59) if i >= 0 else t.replace(minute=0, second=0) - _SECOND
            elif t.second not in self.seconds:
                i = bisect.bisect_left(self.seconds, t.second) - 1
                t = t.replace(second=self.seconds[i]) if i >= 0 else t.replace(second=0) - _SECOND
            else:
                return t

    def canonical(self) -> str:
        """The schedule itself, however it was written: "MON" and "1", "*/30" and "0,30"
        give the same text. Its hash names the window in storage, so this text is a
        storage format: changing it orphans every cron window's stored periods."""
        days, weekdays, either = self.days, self.weekdays, self.either_day
        if either and (days == _full(2) or weekdays == _full(4)):
            days, weekdays, either = _full(2), _full(4), False  # every day, however spelled
        fields = (self.minutes, self.hours, days, self.months, weekdays)
        text = " ".join(",".join(map(str, f)) for f in fields) + (" or" if either else " and")
        # Seconds only when they say more than ":00": every 5-field schedule keeps its name.
        return f"{','.join(map(str, self.seconds))} {text}" if self.has_seconds else text


def _full(index: int) -> tuple[int, ...]:
    field = _FIELDS[index]
    return tuple(range(field.low, 7 if field.names is _DOW_NAMES else field.high + 1))


def _cron_value(text: str, field: _Field, expr: str) -> int:
    if re.fullmatch(r"\d{1,2}", text):
        value = int(text)
    elif field.names is not None and text.upper() in field.names:
        value = field.names[text.upper()]
    else:
        raise WindowError(f"cron {field.name} {text!r} in {expr!r} is not a number or name")
    if not field.low <= value <= field.high:
        raise WindowError(f"cron {field.name} {value} in {expr!r} is outside {field.low}-{field.high}")
    return value


def _cron_field(text: str, field: _Field, expr: str) -> tuple[int, ...]:
    values: set[int] = set()
    for item in text.split(","):
        base, slash, step_text = item.partition("/")
        step = 1
        if slash:
            if not re.fullmatch(r"\d{1,2}", step_text) or int(step_text) == 0:
                raise WindowError(f"cron {field.name} step {step_text!r} in {expr!r} must be 1-99")
            step = int(step_text)
        if base == "*":
            low, high = field.low, (6 if field.names is _DOW_NAMES else field.high)
        elif "-" in base:
            low_text, _, high_text = base.partition("-")
            low, high = _cron_value(low_text, field, expr), _cron_value(high_text, field, expr)
            if low > high:
                raise WindowError(f"cron {field.name} range {base!r} in {expr!r} runs backwards")
        else:
            low = _cron_value(base, field, expr)
            high = field.high if slash else low  # "5/15": from 5 on, as cronie reads it
        values.update(range(low, high + 1, step))
    if field.names is _DOW_NAMES and 7 in values:
        values = (values - {7}) | {0}
    return tuple(sorted(values))


def parse_cron(expr: str) -> Cron:
    text = _ALIASES.get(expr.strip().lower(), expr)
    parts = text.split()
    seconds: tuple[int, ...] = (0,)
    if len(parts) == 6:
        seconds = _cron_field(parts[0], _SECONDS, expr)
        parts = parts[1:]
    if len(parts) != 5:
        raise WindowError(
            f"cron expression {expr!r} needs 5 fields (minute hour day-of-month month day-of-week), "
            "or 6 with a second first"
        )
    fields = [_cron_field(part, field, expr) for part, field in zip(parts, _FIELDS, strict=True)]
    # cronie: a day field written starting with "*" does not widen the other one.
    either = not parts[2].startswith("*") and not parts[4].startswith("*")
    minutes, hours, days, months, weekdays = fields
    cron = Cron(minutes, hours, days, months, weekdays, either_day=either, seconds=seconds)
    if not either and not any(d <= _MONTH_MAX_DAYS[m] for m in cron.months for d in cron.days):
        raise WindowError(f"cron expression {expr!r} never fires: no such day in those months")
    return cron


# --- windows ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Window:
    kind: WindowKind
    spec: str  # normalised: "day", "cron:0 9 * * MON"
    cron: Cron | None = None

    @property
    def code(self) -> str:
        """The window's name in internal board names: [a-z0-9] only, stable. Cron
        windows are named by a hash of their schedule, so equal schedules share it."""
        if self.cron is None:
            return self.kind.value
        return "cron" + hashlib.sha256(self.cron.canonical().encode()).hexdigest()[:10]


def parse_window(spec: object) -> Window:
    """A window from its spec; WindowError with the reason if it is not one."""
    if not isinstance(spec, str) or len(spec) > MAX_SPEC_CHARS:
        raise WindowError(
            f"a window is 'all', 'day', 'week', 'month' or 'cron:<expression>', of at most {MAX_SPEC_CHARS} characters"
        )
    return _parse_window(spec)


@lru_cache(maxsize=1024)  # a board's specs are parsed again for every submission
def _parse_window(spec: str) -> Window:
    if spec in ("all", "day", "week", "month"):
        return Window(WindowKind(spec), spec)
    if spec.startswith("cron:"):
        expr = " ".join(spec[len("cron:") :].split())
        return Window(WindowKind.CRON, f"cron:{expr}", parse_cron(expr))
    raise WindowError(f"unknown window {spec!r}: expected 'all', 'day', 'week', 'month' or 'cron:<expression>'")


def parse_windows(specs: Iterable[str]) -> tuple[Window, ...]:
    """A board's windows, in the order given; refuses two with the same schedule (one
    submission would then count twice in the same stored period)."""
    windows: list[Window] = []
    for spec in specs:
        window = parse_window(spec)
        twin = next((w for w in windows if w.code == window.code), None)
        if twin is not None:
            raise WindowError(f"windows {twin.spec!r} and {window.spec!r} keep the same periods")
        windows.append(window)
    if len(windows) > MAX_WINDOWS:
        raise WindowError(f"a board keeps at most {MAX_WINDOWS} windows")
    return tuple(windows)


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    # "localtime" is whatever the host is set to and "Factory" a placeholder: neither
    # means the same on every machine.
    return frozenset(available_timezones()) - {"localtime", "Factory"}


def check_timezone(name: object) -> str:
    """`name` if it is an IANA time zone name this machine knows, else WindowError."""
    if not isinstance(name, str) or name not in _zone_names():
        # Echoed only when short text: never the repr of whatever nested value was sent.
        shown = repr(name) if isinstance(name, str) and len(name) <= 64 else "value"
        raise WindowError(
            f"unknown time zone {shown}: expected an IANA name such as 'Europe/London'", code="invalid_timezone"
        )
    return name


def check_keep_periods(value: object) -> int:
    # bool is an int subclass in Python; a JSON true is not a count.
    if type(value) is not int or not 0 <= value <= MAX_KEEP_PERIODS:
        raise WindowError(f"keep_periods must be an integer 0-{MAX_KEEP_PERIODS}", code="invalid_keep_periods")
    return value


def _zone(tz: str) -> ZoneInfo:
    return ZoneInfo(check_timezone(tz))  # ZoneInfo caches one object per name


# --- instants and labels ----------------------------------------------------------


def _check_at(at_us: int) -> None:
    if type(at_us) is not int or not MIN_AT_US <= at_us < MAX_AT_US:
        raise WindowError(f"instant {at_us!r} is outside 1900-01-01 … 9000-01-01 UTC (microseconds)")


def _local(zone: ZoneInfo, at_us: int) -> datetime:
    """The wall time the board's clock shows at `at_us` (naive)."""
    return (EPOCH + timedelta(microseconds=at_us)).astimezone(zone).replace(tzinfo=None, fold=0)


def _instant_us(zone: ZoneInfo, wall: datetime, fold: int) -> int:
    return (wall.replace(tzinfo=zone, fold=fold) - EPOCH) // _US


def _start_us(zone: ZoneInfo, wall: datetime) -> int:
    """The first instant at which the local clock reads `wall` or later (module docstring)."""
    first = _instant_us(zone, wall, 0)  # offset before any transition at `wall`
    second = _instant_us(zone, wall, 1)  # offset after it
    if first <= second:
        return first  # exists: once (equal) or twice (first occurrence)
    # Skipped: the clock reads before `wall` at `second` and after it at `first`;
    # the jump lies between. Bisect to the microsecond (≈ 40 steps, only at gaps).
    low, high = second, first
    while high - low > 1:
        mid = (low + high) // 2
        if _local(zone, mid) >= wall:
            high = mid
        else:
            low = mid
    return high


def _floor(window: Window, wall: datetime) -> datetime:
    """The last label at or before `wall`."""
    day = datetime(wall.year, wall.month, wall.day)
    if window.kind is WindowKind.DAY:
        return day
    if window.kind is WindowKind.WEEK:
        return day - timedelta(days=day.weekday())
    if window.kind is WindowKind.MONTH:
        return day.replace(day=1)
    assert window.cron is not None
    return window.cron.at_or_before(wall)


def _next(window: Window, label: datetime) -> datetime:
    if window.kind is WindowKind.DAY:
        return label + _DAY
    if window.kind is WindowKind.WEEK:
        return label + timedelta(days=7)
    if window.kind is WindowKind.MONTH:
        return (
            label.replace(year=label.year + 1, month=1) if label.month == 12 else label.replace(month=label.month + 1)
        )
    assert window.cron is not None
    return window.cron.next_after(label)


def _previous(window: Window, label: datetime) -> datetime:
    return _floor(window, label - _US)


def _format(window: Window, label: datetime) -> str:
    if window.kind is WindowKind.DAY:
        return f"{label.year:04d}-{label.month:02d}-{label.day:02d}"
    if window.kind is WindowKind.WEEK:
        iso = label.isocalendar()
        return f"{iso.year:04d}-W{iso.week:02d}"
    if window.kind is WindowKind.MONTH:
        return f"{label.year:04d}-{label.month:02d}"
    minute = f"{label.year:04d}-{label.month:02d}-{label.day:02d}T{label.hour:02d}:{label.minute:02d}"
    assert window.cron is not None
    return f"{minute}:{label.second:02d}" if window.cron.has_seconds else minute


# The shape of each kind's period ids; all within boards.ID_PATTERN.
_ID_SHAPES = {
    WindowKind.ALL: re.compile(ALL_ID),
    WindowKind.DAY: re.compile(r"(\d{4})-(\d{2})-(\d{2})"),
    WindowKind.WEEK: re.compile(r"(\d{4})-W(\d{2})"),
    WindowKind.MONTH: re.compile(r"(\d{4})-(\d{2})"),
    WindowKind.CRON: re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?"),
}
_CRON_CODE = re.compile(r"cron[0-9a-f]{10}")


def _label_of(window: Window, period_id: str) -> datetime | None:
    """The label an id names, if the id is well formed; None otherwise."""
    shape = _ID_SHAPES[window.kind].fullmatch(period_id)
    if shape is None:
        return None
    numbers = [int(g) for g in shape.groups() if g is not None]
    try:
        if window.kind is WindowKind.WEEK:
            return datetime.combine(date.fromisocalendar(numbers[0], numbers[1], 1), datetime.min.time())
        if window.kind is WindowKind.MONTH:
            return datetime(numbers[0], numbers[1], 1)
        return datetime(*numbers)  # type: ignore[arg-type]
    except ValueError:
        return None  # no such date: "2026-02-30", week 53 of a 52-week year


# --- periods ----------------------------------------------------------------------


def period_at(window: Window, tz: str, at_us: int) -> Period:
    """The period of `window` that holds the instant `at_us`, in the board's zone `tz`."""
    _check_at(at_us)
    if window.kind is WindowKind.ALL:
        return ALL_PERIOD
    zone = _zone(tz)
    label = _floor(window, _local(zone, at_us))
    start = _start_us(zone, label)
    # The label of the wall time holds it but for clocks that went back across a label:
    # step to the one whose [start, next start) does. Passing an empty period (labels
    # in one gap) is stepping too.
    while start > at_us:
        label = _previous(window, label)
        start = _start_us(zone, label)
    following = _next(window, label)
    end = _start_us(zone, following)
    while end <= at_us:
        label, start = following, end
        following = _next(window, label)
        end = _start_us(zone, following)
    return Period(_format(window, label), start, end)


def parse_period(window: Window, tz: str, period_id: str) -> Period:
    """The period `period_id` names; WindowError if no period of `window` in `tz` has it."""
    if window.kind is WindowKind.ALL:
        if period_id != ALL_ID:
            raise WindowError(f"window 'all' has one period, 'all', not {period_id!r}", code="invalid_period")
        return ALL_PERIOD
    label = _label_of(window, period_id) if isinstance(period_id, str) else None
    if label is None or _format(window, label) != period_id:
        raise WindowError(f"{period_id!r} is not a {window.spec} period id", code="invalid_period")
    if window.cron is not None and not window.cron.matches(label):
        raise WindowError(f"{period_id!r} is not a fire time of {window.spec}", code="invalid_period")
    if not datetime(1890, 1, 1) <= label < datetime(9001, 1, 1):  # first, to stay inside datetime
        raise WindowError(f"period {period_id!r} is outside the years 1900-8999", code="invalid_period")
    zone = _zone(tz)
    start, end = _start_us(zone, label), _start_us(zone, _next(window, label))
    if start == end:
        raise WindowError(f"period {period_id!r} never happens in {tz}: the clock skips it", code="invalid_period")
    if end <= MIN_AT_US or start >= MAX_AT_US:
        raise WindowError(f"period {period_id!r} is outside the years 1900-8999", code="invalid_period")
    return Period(period_id, start, end)


def previous_periods(window: Window, tz: str, at_us: int, n: int) -> list[Period]:
    """The `n` periods before the one holding `at_us`, newest first (fewer only near
    1900; none for "all")."""
    if type(n) is not int or n < 0:
        raise WindowError(f"n must be a non-negative integer, not {n!r}")
    current = period_at(window, tz, at_us)
    out: list[Period] = []
    while len(out) < n and current.start_us - 1 >= MIN_AT_US:
        current = period_at(window, tz, current.start_us - 1)
        out.append(current)
    return out


def next_reset_us(window: Window, tz: str, at_us: int) -> int | None:
    """When the period holding `at_us` ends and the next begins (None: "all" never resets)."""
    return period_at(window, tz, at_us).end_us


# --- internal board names ---------------------------------------------------------


def period_board(board: str, window: Window | str, period_id: str) -> str:
    """The internal board a window's period is stored as: "<board>~<window code>~<period id>".
    Window "all" is the board itself, so boards from before windows keep their data.
    Characters: the id charset plus '~' — fit for a Redis key (inside its {hash tag}),
    a Kafka key and a Cassandra text value; at most 128 + 1 + 14 + 1 + 19 = 163 characters."""
    w = parse_window(window) if isinstance(window, str) else window
    if not is_valid_id(board):
        raise WindowError(f"board {board!r} is not a valid board id")
    if not _ID_SHAPES[w.kind].fullmatch(period_id):
        raise WindowError(f"{period_id!r} is not a {w.spec} period id", code="invalid_period")
    if w.kind is WindowKind.ALL:
        return board
    return SEPARATOR.join((board, w.code, period_id))


def split_period_board(name: str) -> tuple[str, str, str] | None:
    """(board, window code, period id) of a period board name; None for a plain board
    (or anything else). The window comes back as its `Window.code`: a cron's spec cannot
    be read back from its hash, so match it against the board's windows."""
    parts = name.split(SEPARATOR)
    if len(parts) != 3:
        return None
    board, code, period_id = parts
    if not is_valid_id(board):
        return None
    if code in (WindowKind.DAY, WindowKind.WEEK, WindowKind.MONTH):
        kind = WindowKind(code)
    elif _CRON_CODE.fullmatch(code):
        kind = WindowKind.CRON
    else:
        return None
    if not _ID_SHAPES[kind].fullmatch(period_id):
        return None
    return board, code, period_id


def period_boards_at(board: str, windows: Iterable[Window], tz: str, at_us: int) -> list[str]:
    """The internal boards one submission at `at_us` to `board` updates: one per window."""
    return [period_board(board, w, period_at(w, tz, at_us).id) for w in windows]
