"""The cron grammar and the next-run arithmetic of the Kubernetes CronJob controller.

The controller parses `spec.schedule` with robfig/cron v3.0.1 `ParseStandard` and asks
`SpecSchedule.Next` for run times in the CronJob's `timeZone`. A preview that uses any
other cron library disagrees with it in the places users care about (daylight-saving
days, day-of-month *or* day-of-week, ranges such as `1-1`), so this module is a direct
port of those two functions, including Go's `time.Date` normalisation of wall-clock
times that do not exist or exist twice. `schedule.py` wraps it with the user-facing
messages; nothing here knows about ScheduledJobs.

The grammar accepted here is deliberately a subset of robfig's: it drops what robfig
tolerates by accident (`*-5`, empty list items, `+5`, unbounded numbers) and what the
preview library (croniter) refuses (`?` outside the day fields).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

__all__ = [
    "DAY_NAMES",
    "FIELDS",
    "MACROS",
    "MONTH_NAMES",
    "CronField",
    "CronSpec",
    "CronSyntaxError",
    "next_after",
    "parse",
]

# robfig sets this bit when a field starts with `*` or `?` and has no step > 1; it
# decides whether day-of-month and day-of-week combine with AND or with OR.
_STAR = 1 << 63

MONTH_NAMES = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")

# The descriptors robfig's ParseStandard knows, as the five fields they stand for.
MACROS: dict[str, str] = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}


@dataclass(frozen=True)
class CronField:
    """One of the five positions: its bounds, names and whether `?` may appear."""

    label: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    names_start: int = 0
    question_mark: bool = False

    @property
    def size(self) -> int:
        return self.high - self.low + 1

    def name_value(self, token: str) -> int | None:
        lowered = token.lower()
        if lowered in self.names:
            return self.names.index(lowered) + self.names_start
        return None


FIELDS = (
    CronField("minute", 0, 59),
    CronField("hour", 0, 23),
    CronField("day-of-month", 1, 31, question_mark=True),
    CronField("month", 1, 12, MONTH_NAMES, names_start=1),
    CronField("day-of-week", 0, 6, DAY_NAMES, question_mark=True),
)


class CronSyntaxError(ValueError):
    """A schedule robfig or croniter would refuse; the message says what to write."""


@dataclass(frozen=True)
class CronSpec:
    """Bit sets exactly as robfig's SpecSchedule holds them (second is always 0)."""

    minute: int
    hour: int
    dom: int
    month: int
    dow: int

    @property
    def dom_or_dow(self) -> bool:
        """True when a day matches if EITHER day field matches (both restricted)."""
        return not (self.dom & _STAR or self.dow & _STAR)

    def can_fire(self) -> bool:
        """Whether some day of some allowed month matches.

        Only a restricted day-of-month combined (AND) with an unrestricted
        day-of-week can miss every month: `0 0 31 2 *`, `0 0 31 4,6,9,11 *`.
        """
        if self.dom_or_dow or self.dom & _STAR:
            return True
        days = [d for d in range(1, 32) if self.dom >> d & 1]
        longest = {1: 31, 2: 29, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31}
        longest |= {11: 30, 12: 31}
        months = [m for m in range(1, 13) if self.month >> m & 1]
        return any(min(days) <= longest[m] for m in months)


_ITEM = re.compile(
    r"(?P<low>\*|\?|[0-9]+|[A-Za-z]+)(?:-(?P<high>[0-9]+|[A-Za-z]+))?(?:/(?P<step>[0-9]+))?"
)


def parse(expr: str) -> CronSpec:
    """Parse five fields or a macro; raise CronSyntaxError naming the first problem."""
    spec_text = MACROS.get(expr, expr)
    fields = spec_text.split(" ")
    fields = [f for f in fields if f]
    if len(fields) != len(FIELDS):
        raise CronSyntaxError(
            f"has {len(fields)} fields: write five, minute hour day-of-month month day-of-week"
        )
    bits = [_parse_field(text, field) for text, field in zip(fields, FIELDS, strict=True)]
    return CronSpec(*bits)


def _parse_field(text: str, field: CronField) -> int:
    bits = 0
    for item in text.split(","):
        bits |= _parse_item(item, field, text)
    return bits


def _parse_item(item: str, field: CronField, text: str) -> int:
    label = field.label
    if not item:
        raise CronSyntaxError(
            f'the {label} field "{text}" has an empty list item: remove the extra comma'
        )
    match = _ITEM.fullmatch(item)
    if match is None:
        raise CronSyntaxError(_unsupported(item, field))
    low_text, high_text, step_text = match.group("low", "high", "step")
    star = low_text in ("*", "?")
    if low_text == "?" and not field.question_mark:
        raise CronSyntaxError(
            f'"?" is only allowed in day-of-month and day-of-week: write "*" in the {label} field'
        )
    if star and high_text is not None:
        raise CronSyntaxError(
            f'"{item}" in the {label} field mixes "*" with a range: write "*" or a range such as'
            f' "{field.low}-{field.high}"'
        )
    if star:
        low, high = field.low, field.high
    else:
        low = _value(low_text, field, item)
        high = low if high_text is None else _value(high_text, field, item)
    step = 1
    if step_text is not None:
        step = int(step_text)
        if step == 0:
            raise CronSyntaxError(
                f'"{item}" in the {label} field has a step of 0: use 1 or more, e.g. "*/5"'
            )
        if step > field.size:
            raise CronSyntaxError(
                f'"{item}" in the {label} field has a step of {step}, more than the field\'s'
                f" {field.size} values, so it only matches its start: write that value instead"
            )
        if high_text is None and not star:
            high = field.high  # robfig: "N/step" means "N-max/step"
    if low > high:
        raise CronSyntaxError(
            f'the {label} range "{item}" runs backwards and Kubernetes does not wrap ranges:'
            f' write it as two ranges, "{low}-{field.high},{field.low}-{high}"'
        )
    value = sum(1 << v for v in range(low, high + 1, step))
    # robfig keeps the star marker for `*` and `*/1` but drops it for `*/2`: that
    # decides the AND/OR combination of the two day fields.
    if star and step == 1:
        value |= _STAR
    return value


def _value(token: str, field: CronField, item: str) -> int:
    named = field.name_value(token)
    if named is not None:
        return named
    if not token.isdigit() or not token.isascii():
        raise CronSyntaxError(_unsupported(item, field))
    value = int(token)
    if value < field.low or value > field.high:
        hint = " (Sunday is 0 or SUN)" if field is FIELDS[4] and value == 7 else ""
        raise CronSyntaxError(
            f"{value} is out of range for the {field.label} field: use"
            f" {field.low}-{field.high}{hint}{_names_hint(field)}"
        )
    return value


def _names_hint(field: CronField) -> str:
    if not field.names:
        return ""
    first, last = field.names[0].upper(), field.names[-1].upper()
    return f" or the names {first}-{last}"


def _unsupported(item: str, field: CronField) -> str:
    """Name the extension the user probably meant, since each has its own fix."""
    upper = item.upper()
    label = field.label
    if "#" in item:
        return (
            f'"{item}": "#" (nth weekday of the month) is not supported by the Kubernetes'
            " CronJob controller: use a day-of-week with a day-of-month range, e.g."
            ' "0 9 8-14 * *" and check the weekday in the job'
        )
    if re.fullmatch(r"[0-9]*LW?|L-[0-9]+", upper):
        return (
            f'"{item}": "L" (last day) is not supported by the Kubernetes CronJob controller:'
            ' use explicit days, e.g. "28-31" in day-of-month'
        )
    if re.fullmatch(r"[0-9]+W", upper):
        return (
            f'"{item}": "W" (nearest weekday) is not supported by the Kubernetes CronJob'
            " controller: use explicit days and a day-of-week such as MON-FRI"
        )
    if upper == "H" or upper.startswith("H(") or upper.startswith("H/"):
        return (
            f'"{item}": "H" (hashed value) is not supported by the Kubernetes CronJob'
            " controller: write a fixed number"
        )
    if re.search(r"[A-Za-z]", item):
        allowed = (
            f"the names {field.names[0].upper()}-{field.names[-1].upper()} or numbers"
            if field.names
            else "numbers only"
        )
        return f'"{item}" is not valid in the {label} field: use {allowed}'
    return (
        f'"{item}" in the {label} field is not valid cron syntax: use a number, a range "a-b",'
        ' a step "*/n" or "a-b/n", or a comma-separated list of those'
    )


# ---------------------------------------------------------------------------
# Go's time arithmetic, on Unix seconds plus a zone.


def _wall(ts: int, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ts, zone)


def _offset(ts: int, zone: ZoneInfo) -> int:
    offset = datetime.fromtimestamp(ts, zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds())


def _go_date(
    year: int, month: int, day: int, hour: int, minute: int, second: int, zone: ZoneInfo
) -> int:
    """time.Date: normalise overflowing fields, then resolve the wall time in `zone`.

    Go looks up the offset in force at the wall time read as UTC, then the offset in
    force at the instant that guess gives. For a wall time in a spring-forward gap
    this lands one offset-difference away (Berlin 02:30 -> 03:30 CEST, New York
    02:30 -> 01:30 EST); for a repeated autumn hour it picks one of the two.
    """
    year += (month - 1) // 12
    month = (month - 1) % 12 + 1
    unix = calendar.timegm((year, month, 1, 0, 0, 0)) + (day - 1) * 86400
    unix += hour * 3600 + minute * 60 + second
    return unix - _offset(unix - _offset(unix, zone), zone)


def _add_date(ts: int, zone: ZoneInfo, months: int, days: int) -> int:
    wall = _wall(ts, zone)
    return _go_date(
        wall.year, wall.month + months, wall.day + days, wall.hour, wall.minute, wall.second, zone
    )


def _weekday(wall: datetime) -> int:
    return (wall.weekday() + 1) % 7  # Go: Sunday is 0


def _day_matches(spec: CronSpec, wall: datetime) -> bool:
    dom = bool(spec.dom >> wall.day & 1)
    dow = bool(spec.dow >> _weekday(wall) & 1)
    if spec.dom_or_dow:
        return dom or dow
    return dom and dow


def next_after(spec: CronSpec, zone: ZoneInfo, after: int) -> int | None:
    """robfig SpecSchedule.Next: the first run strictly after `after` (Unix seconds).

    Returns None where robfig returns the zero time (nothing within five years).
    The control flow mirrors spec.go line by line, including its `goto WRAP`.
    """
    t = after + 1
    added = False
    year_limit = _wall(t, zone).year + 5
    while True:
        wall = _wall(t, zone)
        if wall.year > year_limit:
            return None
        wrapped = False
        while not spec.month >> wall.month & 1:
            if not added:
                added = True
                t = _go_date(wall.year, wall.month, 1, 0, 0, 0, zone)
            t = _add_date(t, zone, 1, 0)
            wall = _wall(t, zone)
            if wall.month == 1:
                wrapped = True
                break
        if wrapped:
            continue
        while not _day_matches(spec, wall):
            if not added:
                added = True
                t = _go_date(wall.year, wall.month, wall.day, 0, 0, 0, zone)
            t = _add_date(t, zone, 0, 1)
            wall = _wall(t, zone)
            # robfig: a midnight that does not exist (or exists twice) moved the
            # hour; pull it back to 0.
            if wall.hour != 0:
                t += (24 - wall.hour) * 3600 if wall.hour > 12 else -wall.hour * 3600
                wall = _wall(t, zone)
            if wall.day == 1:
                wrapped = True
                break
        if wrapped:
            continue
        while not spec.hour >> wall.hour & 1:
            if not added:
                added = True
                t = _go_date(wall.year, wall.month, wall.day, wall.hour, 0, 0, zone)
            t += 3600
            wall = _wall(t, zone)
            if wall.hour == 0:
                wrapped = True
                break
        if wrapped:
            continue
        while not spec.minute >> wall.minute & 1:
            if not added:
                added = True
                t -= t % 60  # Truncate(time.Minute) works on absolute time
            t += 60
            wall = _wall(t, zone)
            if wall.minute == 0:
                wrapped = True
                break
        if wrapped:
            continue
        while wall.second != 0:
            added = True
            t += 1
            wall = _wall(t, zone)
            if wall.second == 0:
                wrapped = True
                break
        if wrapped:
            continue
        return t
