"""Schedule and time-zone rules, and the run preview shown in a ScheduledJob's status.

A schedule is accepted only if the API server (robfig/cron `ParseStandard`, no `TZ`),
the cronjob controller (it must be able to compute a next run) and the preview library
(croniter) all accept it. Messages name the problem and what to write instead; the
caller prefixes the field name.

The preview itself comes from `cron.next_after`, a port of robfig's `Next`, because
croniter differs from the controller around daylight-saving changes and on some
ranges; see docs/schedules.md for what the controller really does.
"""

from __future__ import annotations

import difflib
import functools
import re
import zoneinfo
from datetime import UTC, datetime, timedelta

from croniter import croniter

from scheduledjob_operator import cron

__all__ = [
    "ADMISSION_SCHEDULE_PATTERN",
    "ADMISSION_TIME_ZONE_PATTERN",
    "DEFAULT_TIME_ZONE",
    "MACROS",
    "SCHEDULE_MAX_LENGTH",
    "format_rfc3339",
    "next_runs",
    "validate_schedule",
    "validate_time_zone",
]

DEFAULT_TIME_ZONE = "Etc/UTC"
SCHEDULE_MAX_LENGTH = 200
MACROS: tuple[str, ...] = tuple(cron.MACROS)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Not calendar.month_name: that follows the process locale.
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_EXAMPLE = 'e.g. "0 3 * * *" (03:00 every day) or @daily'


def _admission_schedule_pattern() -> str:
    """The CRD's CEL regex for the five fields, built from the same bounds as the parser.

    It checks values, names and `?` per position, so most mistakes are refused by the
    API server with the CRD's message; ranges that run backwards, oversized steps and
    schedules that can never fire are left to `validate_schedule`. No backslashes, so
    it survives YAML and CEL quoting unchanged.
    """
    numbers = {
        "minute": "0*[1-5]?[0-9]",
        "hour": "0*(1?[0-9]|2[0-3])",
        "day-of-month": "0*([1-9]|[12][0-9]|3[01])",
        "month": "(0*([1-9]|1[0-2])|(?i:" + "|".join(cron.MONTH_NAMES) + "))",
        "day-of-week": "(0*[0-6]|(?i:" + "|".join(cron.DAY_NAMES) + "))",
    }
    parts = []
    for field in cron.FIELDS:
        number = numbers[field.label]
        star = "[*?]" if field.question_mark else "[*]"
        item = f"({star}|{number}(-{number})?)(/0*[1-9][0-9]*)?"
        parts.append(f"{item}(,{item})*")
    return "^" + "[ ]+".join(parts) + "$"


ADMISSION_SCHEDULE_PATTERN = _admission_schedule_pattern()
# Kubernetes' own rule for each `/`-separated part of a zone name (validTimeZoneCharacters).
ADMISSION_TIME_ZONE_PATTERN = (
    "^[A-Za-z0-9_+][A-Za-z0-9_+.-]{0,13}(/[A-Za-z0-9_+][A-Za-z0-9_+.-]{0,13})*$"
)
_TZ_PART = re.compile(r"[A-Za-z0-9_+][A-Za-z0-9_+.\-]{0,13}")
_NOT_PLACES = {"local", "localtime", "factory", "posixrules"}


def validate_schedule(expr: object) -> str | None:
    """None if the CronJob controller will run `expr`, else what is wrong and the fix."""
    if not isinstance(expr, str):
        return f"must be a string, {_EXAMPLE}"
    if not expr.strip():
        return (
            f"is empty: write five fields, minute hour day-of-month month day-of-week, {_EXAMPLE}"
        )
    if "TZ" in expr:
        return (
            "carries a time zone (TZ= or CRON_TZ=), which Kubernetes refuses: remove it and"
            " set spec.timeZone instead"
        )
    if len(expr) > SCHEDULE_MAX_LENGTH:
        return (
            f"is longer than {SCHEDULE_MAX_LENGTH} characters: shorten lists with ranges and steps"
        )
    if expr != expr.strip():
        return "has spaces or line breaks at the start or end: remove them"
    if any(ch.isspace() and ch != " " for ch in expr):
        return "contains tabs or line breaks: separate the five fields with spaces"
    if expr.startswith("@"):
        problem = _macro_problem(expr)
        if problem is not None:
            return problem
    else:
        fields = [f for f in expr.split(" ") if f]
        if len(fields) in (6, 7):
            return (
                f"has {len(fields)} fields, but seconds and year fields are not supported: write"
                f" five, minute hour day-of-month month day-of-week, {_EXAMPLE}"
            )
    try:
        spec = cron.parse(expr)
    except cron.CronSyntaxError as exc:
        return str(exc)
    if not spec.can_fire():
        return _never_fires(expr)
    if not croniter.is_valid(expr):
        return f"cannot be read by the schedule preview (croniter): write plain fields, {_EXAMPLE}"
    return None


def _macro_problem(expr: str) -> str | None:
    if expr in cron.MACROS:
        return None
    word = expr.split()[0]
    known = ", ".join(cron.MACROS)
    if word == "@every":
        return (
            "@every is not supported (its runs drift with the controller's restarts): use a step,"
            ' e.g. "*/5 * * * *" for every 5 minutes or "0 */2 * * *" for every 2 hours'
        )
    if word == "@reboot":
        return '@reboot has no meaning for a CronJob: pick a time, e.g. @daily or "0 3 * * *"'
    return f'unknown macro "{word}": use one of {known}, or five fields, {_EXAMPLE}'


def _never_fires(expr: str) -> str:
    spec = cron.parse(expr)
    days = [str(d) for d in range(1, 32) if spec.dom >> d & 1]
    months = [_MONTHS[m - 1] for m in range(1, 13) if spec.month >> m & 1]
    return (
        f"can never run: day {', '.join(days)} does not exist in {', '.join(months)}"
        " (February has at most 29 days, April, June, September and November 30): pick a day"
        " that exists in those months"
    )


@functools.cache
def _zone_names() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def validate_time_zone(tz: object) -> str | None:
    """None if both Go's time.LoadLocation and zoneinfo know `tz` as a real place."""
    if not isinstance(tz, str):
        return "must be a string such as Europe/Berlin"
    if not tz:
        return (
            "is empty: name an IANA zone such as Europe/Berlin, or leave timeZone out for Etc/UTC"
        )
    if tz.lower() in _NOT_PLACES:
        return (
            f'"{tz}" is not a place (Local would be the controller\'s own zone, which differs'
            " between clusters): name an IANA zone such as Europe/Berlin or Etc/UTC"
        )
    if not all(_TZ_PART.fullmatch(part) for part in tz.split("/")):
        return (
            f'"{tz}" is not an IANA time zone name (letters, digits, "_", "-", "+" and "/"'
            " only, no spaces): write e.g. Europe/Berlin or America/New_York"
        )
    names = _zone_names()
    if tz in names:
        return None
    by_case = {name.lower(): name for name in names}
    guess = by_case.get(tz.lower())
    if guess is None:
        close = difflib.get_close_matches(tz, sorted(names), n=1, cutoff=0.8)
        guess = close[0] if close else None
    hint = f"did you mean {guess}?" if guess else "name an IANA zone such as Europe/Berlin"
    return f'unknown time zone "{tz}": {hint}'


def next_runs(schedule: str, time_zone: str, after: datetime, count: int) -> list[datetime]:
    """The next `count` times the cronjob controller starts a Job, strictly after `after`.

    Chained exactly as the controller chains them (each run computed from the previous
    one), so a run in a spring-forward gap is absent and a run in a repeated autumn
    hour appears twice. Results carry the zone; two results in the repeated hour
    compare equal as Python datetimes (fold is ignored within one zone), so compare
    `.timestamp()` or `format_rfc3339()` output instead. Fewer than `count` come back
    only when the schedule has no run within five years of the last one (as robfig).
    """
    problem = validate_schedule(schedule) or _prefixed("time zone", validate_time_zone(time_zone))
    if problem is not None:
        raise ValueError(problem)
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("after must be an aware datetime")
    zone = zoneinfo.ZoneInfo(time_zone)
    spec = cron.parse(schedule)
    t = (after - _EPOCH) // timedelta(seconds=1)
    runs: list[datetime] = []
    while len(runs) < count:
        nxt = cron.next_after(spec, zone, t)
        if nxt is None:
            break
        runs.append(datetime.fromtimestamp(nxt, zone))
        t = nxt
    return runs


def _prefixed(what: str, problem: str | None) -> str | None:
    return None if problem is None else f"{what} {problem}"


def format_rfc3339(dt: datetime) -> str:
    """RFC 3339 to the second with the zone's numeric offset (`+00:00` for UTC, as Go
    prints it only with `Z`; numeric keeps every status time in one shape)."""
    offset = dt.utcoffset()
    if offset is None:
        raise ValueError("format_rfc3339 needs an aware datetime")
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, mins = divmod(abs(seconds) // 60, 60)
    return f"{dt.strftime('%Y-%m-%dT%H:%M:%S')}{sign}{hours:02d}:{mins:02d}"
