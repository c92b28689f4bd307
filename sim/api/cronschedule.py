"""Cron schedules as Kubernetes reads them: github.com/robfig/cron/v3's ParseStandard (the
grammar, and its error texts, which kube-apiserver returns for a bad `spec.schedule` and the
CronJob controller puts in its Events), evaluated by croniter.

ParseStandard takes five fields (minute hour day-of-month month day-of-week), each a
comma-separated list of `*`, `?`, `N`, `N-M`, with an optional `/step`, month and weekday
names; the descriptors `@yearly` (`@annually`), `@monthly`, `@weekly`, `@daily`
(`@midnight`), `@hourly` and `@every <duration>`; and an optional `TZ=`/`CRON_TZ=` prefix.

The grammar is checked here, field by field, as robfig's parser.go checks it, so the messages
are its own; the parsed sets are then handed to croniter as an explicit expression (each
field `*` or the list of its values), so croniter evaluates exactly the times robfig would,
including robfig's day rule: when both day-of-month and day-of-week are restricted (neither
starts with `*` or `?`), a day matching either runs, otherwise both must match - croniter's
`day_or`.  `@every` is robfig's ConstantDelaySchedule, which is not cron syntax at all.

Times are timezone-aware datetimes; the engine maps virtual seconds onto them from
sim.api.meta.EPOCH.  robfig uses the process's local zone when none is given; the simulated
kube-controller-manager runs in UTC, as its container does.
"""
from __future__ import annotations

import datetime as dt
import functools
import re
import zoneinfo

from croniter import CroniterBadDateError, croniter

UTC = dt.timezone.utc

# robfig/cron's bounds (spec.go): minutes, hours, dom, months, dow.
_MONTH_NAMES = {n: i + 1 for i, n in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug",
                                                  "sep", "oct", "nov", "dec"))}
_DOW_NAMES = {n: i for i, n in enumerate(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))}
_BOUNDS = ((0, 59, None), (0, 23, None), (1, 31, None), (1, 12, _MONTH_NAMES), (0, 6, _DOW_NAMES))

# Descriptors as the five-field specs whose sets robfig's parseDescriptor builds.
_DESCRIPTORS = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
                "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
                "@hourly": "0 * * * *"}

# robfig's Next gives up after five years without a match and returns the zero time.
_YEAR_LIMIT = 5


class CronError(ValueError):
    """A schedule robfig/cron's ParseStandard refuses; str() is its error text."""


class TimeZoneError(ValueError):
    """time.LoadLocation's error; str() is its text."""


def load_location(name: str) -> dt.tzinfo:
    """time.LoadLocation: "" and "UTC" are UTC; "Local" the process's zone (UTC here); otherwise
    an IANA name from the zone database, or `unknown time zone <name>`."""
    if name in ("", "UTC"):
        return UTC
    if name == "Local":
        return UTC
    try:
        return _zone(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        raise TimeZoneError(f"unknown time zone {name}") from None


@functools.lru_cache(maxsize=256)
def _zone(name: str) -> dt.tzinfo:
    # ZoneInfo accepts paths Go refuses; LoadLocation rejects names with "..", a leading "/"
    # or a backslash (containsDotDot, the os.IsPathSeparator check).
    if name.startswith("/") or ".." in name or "\\" in name:
        raise ValueError(name)
    return zoneinfo.ZoneInfo(name)


_INT = re.compile(r"[+-]?\d+")


def _atoi(expr: str) -> int:
    """mustParseInt: strconv.Atoi, then no negatives."""
    if not _INT.fullmatch(expr):
        raise CronError(f'failed to parse int from {expr}: strconv.Atoi: parsing "{expr}": invalid syntax')
    num = int(expr)
    if not -(1 << 63) <= num < (1 << 63):
        raise CronError(f'failed to parse int from {expr}: strconv.Atoi: parsing "{expr}": value out of range')
    if num < 0:
        raise CronError(f"negative number ({num}) not allowed: {expr}")
    return num


def _int_or_name(expr: str, names) -> int:
    if names is not None and expr.lower() in names:
        return names[expr.lower()]
    return _atoi(expr)


def _range(expr: str, lo: int, hi: int, names) -> tuple[set[int], bool]:
    """getRange: the values `expr` names, and whether it carries the star bit (`*` or `?`
    without a step above 1)."""
    range_and_step = expr.split("/")
    low_and_high = range_and_step[0].split("-")
    single = len(low_and_high) == 1
    star = False
    if low_and_high[0] in ("*", "?"):
        start, end, star = lo, hi, True
    else:
        start = _int_or_name(low_and_high[0], names)
        if len(low_and_high) == 1:
            end = start
        elif len(low_and_high) == 2:
            end = _int_or_name(low_and_high[1], names)
        else:
            raise CronError(f"too many hyphens: {expr}")
    if len(range_and_step) == 1:
        step = 1
    elif len(range_and_step) == 2:
        step = _atoi(range_and_step[1])
        if single:  # "N/step" means "N-max/step"
            end = hi
        if step > 1:
            star = False
    else:
        raise CronError(f"too many slashes: {expr}")
    if start < lo:
        raise CronError(f"beginning of range ({start}) below minimum ({lo}): {expr}")
    if end > hi:
        raise CronError(f"end of range ({end}) above maximum ({hi}): {expr}")
    if start > end:
        raise CronError(f"beginning of range ({start}) beyond end of range ({end}): {expr}")
    if step == 0:
        raise CronError(f"step of range should be a positive number: {expr}")
    return set(range(start, end + 1, step)), star


def _field(field: str, lo: int, hi: int, names) -> str:
    """getField: a comma-separated list of ranges, as croniter should read it."""
    values, star = set(), False
    for expr in (part for part in field.split(",") if part):  # strings.FieldsFunc drops empty parts
        got, is_star = _range(expr, lo, hi, names)
        values |= got
        star = star or is_star
    if star:
        return "*"
    return ",".join(str(v) for v in sorted(values)) if values else ""


# -- Go durations (time.ParseDuration), for @every ------------------------------------------------
_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "μs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION_PART = re.compile(r"(\d*\.?\d*)([^\d.]*)")


def parse_go_duration(text: str) -> float:
    """time.ParseDuration, in seconds; ValueError with Go's message."""
    orig, s, sign = text, text, 1.0
    if s[:1] in ("-", "+"):
        sign, s = (-1.0 if s[0] == "-" else 1.0), s[1:]
    if s == "0":
        return 0.0
    if not s:
        raise ValueError(f'time: invalid duration "{orig}"')
    total = 0.0
    while s:
        m = _DURATION_PART.match(s)
        number, unit = m.group(1), m.group(2)
        if not number or number == "." or not re.fullmatch(r"\d*\.?\d*", number):
            raise ValueError(f'time: invalid duration "{orig}"')
        if not unit:
            raise ValueError(f'time: missing unit in duration "{orig}"')
        if unit not in _UNITS:
            raise ValueError(f'time: unknown unit "{unit}" in duration "{orig}"')
        total += float(number) * _UNITS[unit]
        s = s[m.end():]
    return sign * total


# -- schedules ---------------------------------------------------------------------------------
class Schedule:
    """robfig's Schedule: next(t) is the first activation strictly after t (whole seconds),
    or None where robfig returns the zero time (nothing within five years)."""

    def next(self, t: dt.datetime) -> dt.datetime | None:
        raise NotImplementedError


class SpecSchedule(Schedule):
    def __init__(self, expr: str, location: dt.tzinfo):
        self.expr, self.location = expr, location

    def next(self, t: dt.datetime) -> dt.datetime | None:
        try:
            nxt = croniter(self.expr, t.astimezone(self.location),
                           max_years_between_matches=_YEAR_LIMIT).get_next(dt.datetime)
        except CroniterBadDateError:
            return None
        return nxt.astimezone(UTC)

    def __repr__(self):
        return f"SpecSchedule({self.expr!r}, {self.location})"


class ConstantDelaySchedule(Schedule):
    """`@every <duration>`: robfig's Every rounds the delay to whole seconds, at least one."""

    def __init__(self, delay: float):
        self.delay = max(1, int(delay)) if delay >= 1 else 1

    def next(self, t: dt.datetime) -> dt.datetime:
        return t.replace(microsecond=0) + dt.timedelta(seconds=self.delay)


@functools.lru_cache(maxsize=1024)
def parse_standard(spec: str) -> Schedule:
    """cron.ParseStandard(spec), raising CronError with robfig's text."""
    if not spec:
        raise CronError("empty spec string")
    location: dt.tzinfo = UTC
    if spec.startswith("TZ=") or spec.startswith("CRON_TZ="):
        i, eq = spec.find(" "), spec.find("=")
        name = spec[eq + 1:i] if i > eq else spec[eq + 1:]
        try:
            location = load_location(name)
        except TimeZoneError as e:
            raise CronError(f"provided bad location {name}: {e}") from None
        spec = spec[i:].strip() if i > eq else ""
    if spec.startswith("@"):
        if spec in _DESCRIPTORS:
            return SpecSchedule(_DESCRIPTORS[spec], location)
        if spec.startswith("@every "):
            try:
                return ConstantDelaySchedule(parse_go_duration(spec[len("@every "):]))
            except ValueError as e:
                raise CronError(f"failed to parse duration {spec}: {e}") from None
        raise CronError(f"unrecognized descriptor: {spec}")
    fields = spec.split()
    if len(fields) != 5:
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: [{' '.join(fields)}]")
    parts = [_field(f, lo, hi, names) for f, (lo, hi, names) in zip(fields, _BOUNDS)]
    if any(not p for p in parts):
        # A field of nothing but commas sets no bit: robfig's Next never matches it.
        return _Never()
    return SpecSchedule(" ".join(parts), location)


def cronjob_schedule(schedule: str, time_zone: str | None) -> Schedule:
    """A CronJob's schedule as the CronJob controller reads it (formatSchedule, then
    ParseStandard): spec.timeZone becomes a `TZ=` prefix, unless the schedule has one of its own
    or the zone does not load.  Raises CronError."""
    if "TZ" not in schedule and time_zone is not None:
        try:
            load_location(time_zone)
        except TimeZoneError:
            return parse_standard(schedule)
        return parse_standard(f"TZ={time_zone} {schedule}")
    return parse_standard(schedule)


class _Never(Schedule):
    def next(self, t):
        return None


def to_datetime(seconds: float, epoch: dt.datetime) -> dt.datetime:
    return epoch + dt.timedelta(seconds=seconds)


def to_seconds(t: dt.datetime, epoch: dt.datetime) -> float:
    return (t - epoch).total_seconds()
