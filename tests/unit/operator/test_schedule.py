"""Schedule rules and the run preview, checked against robfig/cron's own answers."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from scheduledjob_operator import cron
from scheduledjob_operator.schedule import (
    ADMISSION_SCHEDULE_PATTERN,
    format_rfc3339,
    next_runs,
    validate_schedule,
    validate_time_zone,
)

from tests.unit.operator import _data

SCHEDULES = list(_data.tsv("schedules.tsv"))
VALID = [row for row in SCHEDULES if row[2] == "valid"]
INVALID = [row for row in SCHEDULES if row[2] == "invalid"]


def _after(value: str, zone: str) -> datetime:
    """Read `after` as the oracle does: RFC 3339, or a wall time in `zone`.

    A wall time is only used away from DST changes in the data files, so fold=0 is
    not a choice that matters.
    """
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=ZoneInfo(zone))


def _preview(schedule: str, zone: str, after: datetime, count: int) -> str:
    return " ".join(format_rfc3339(run) for run in next_runs(schedule, zone, after, count))


@pytest.mark.parametrize("row", VALID, ids=[f"{r[0]} {r[1]}" for r in VALID])
def test_valid_schedule_previews_the_next_three_runs(row: list[str]) -> None:
    schedule, zone, _, expected = row[:4]
    assert validate_schedule(schedule) is None
    assert validate_time_zone(zone) is None
    assert _preview(schedule, zone, _after("2024-09-01T00:00:00", zone), 3) == expected


@pytest.mark.parametrize("row", INVALID, ids=[f"{r[0]!r} {r[1]}" for r in INVALID])
def test_invalid_schedule_or_zone_is_refused_with_a_message(row: list[str]) -> None:
    schedule, zone, _, _, contains = row
    problem = validate_schedule(schedule) or validate_time_zone(zone)
    assert problem is not None
    assert contains in problem


@pytest.mark.parametrize("row", INVALID, ids=[f"{r[0]!r} {r[1]}" for r in INVALID])
def test_next_runs_refuses_what_validation_refuses(row: list[str]) -> None:
    with pytest.raises(ValueError, match=r"\w"):
        next_runs(row[0], row[1], datetime(2024, 9, 1, tzinfo=UTC), 3)


DST = list(_data.tsv("dst.tsv"))


@pytest.mark.parametrize("row", DST, ids=[r[5] for r in DST])
def test_dst_days_match_the_cronjob_controller(row: list[str]) -> None:
    schedule, zone, after, count, expected, _ = row
    assert _preview(schedule, zone, _after(after, zone), int(count)) == expected


ORACLE = list(_data.tsv("robfig-next.tsv"))


def test_random_schedules_match_robfig_across_zones_and_dst_changes() -> None:
    mismatches = []
    for schedule, zone, after, count, expected in ORACLE:
        wall = datetime.fromisoformat(after)
        # Go's time.ParseInLocation; for a wall time in a gap or overlap it picks an
        # offset by its own rule, so rows whose start is ambiguous are rebuilt from it.
        start = datetime.fromtimestamp(_go_wall_to_unix(wall, zone), ZoneInfo(zone))
        got = _preview(schedule, zone, start, int(count))
        if got != expected:
            mismatches.append((schedule, zone, after, got, expected))
    assert mismatches == []
    assert len(ORACLE) >= 400


def _go_wall_to_unix(wall: datetime, zone: str) -> int:
    return cron._go_date(
        wall.year, wall.month, wall.day, wall.hour, wall.minute, wall.second, ZoneInfo(zone)
    )


# --- DST behaviour spelled out (the data files above carry the full matrix) ---------


def test_spring_forward_skips_a_daily_run_in_the_missing_hour_berlin() -> None:
    runs = _preview(
        "30 2 * * *", "Europe/Berlin", _after("2024-03-30T12:00:00", "Europe/Berlin"), 2
    )
    assert runs == "2024-04-01T02:30:00+02:00 2024-04-02T02:30:00+02:00"


def test_fall_back_runs_a_daily_job_twice_in_the_repeated_hour_berlin() -> None:
    runs = _preview(
        "30 2 * * *", "Europe/Berlin", _after("2024-10-26T12:00:00", "Europe/Berlin"), 3
    )
    assert runs == ("2024-10-27T02:30:00+02:00 2024-10-27T02:30:00+01:00 2024-10-28T02:30:00+01:00")


def test_spring_forward_skips_the_missing_hour_for_hourly_new_york() -> None:
    after = _after("2024-03-10T00:30:00", "America/New_York")
    assert _preview("0 * * * *", "America/New_York", after, 3) == (
        "2024-03-10T01:00:00-05:00 2024-03-10T03:00:00-04:00 2024-03-10T04:00:00-04:00"
    )


def test_fall_back_runs_hourly_every_real_hour_new_york() -> None:
    after = _after("2024-11-03T00:30:00", "America/New_York")
    runs = next_runs("0 * * * *", "America/New_York", after, 4)
    assert [format_rfc3339(r) for r in runs] == [
        "2024-11-03T01:00:00-04:00",
        "2024-11-03T01:00:00-05:00",
        "2024-11-03T02:00:00-05:00",
        "2024-11-03T03:00:00-05:00",
    ]
    gaps = {b.timestamp() - a.timestamp() for a, b in itertools.pairwise(runs)}
    assert gaps == {3600}


def test_repeated_hour_runs_are_distinct_instants_though_equal_as_local_datetimes() -> None:
    first, second = next_runs(
        "30 1 * * *", "America/New_York", _after("2024-11-02T12:00:00", "America/New_York"), 2
    )
    assert second.timestamp() - first.timestamp() == 3600
    assert second.fold == 1


# --- what croniter would get wrong, and the day-field rule --------------------------


def test_both_day_fields_restricted_means_either_matches() -> None:
    runs = _preview("0 0 13 * 1", "Etc/UTC", datetime(2024, 9, 1, tzinfo=UTC), 4)
    # Mondays 2, 9 and 16 September, and Friday the 13th in between.
    assert runs.split() == [
        "2024-09-02T00:00:00+00:00",
        "2024-09-09T00:00:00+00:00",
        "2024-09-13T00:00:00+00:00",
        "2024-09-16T00:00:00+00:00",
    ]


def test_a_stepped_star_counts_as_restricted_for_the_day_rule() -> None:
    # robfig drops the "*" marker for */2, so day 1,3,5,... OR Monday.
    runs = _preview("0 0 */2 * MON", "Etc/UTC", datetime(2024, 9, 1, tzinfo=UTC), 3)
    assert runs.split() == [
        "2024-09-02T00:00:00+00:00",
        "2024-09-03T00:00:00+00:00",
        "2024-09-05T00:00:00+00:00",
    ]


def test_preview_differs_from_croniter_where_croniter_is_wrong() -> None:
    start = datetime(2024, 9, 1, tzinfo=UTC)
    ours = next_runs("0 0 1-1 * *", "Etc/UTC", start, 2)
    theirs = croniter("0 0 1-1 * *", start).get_next(datetime)
    assert [format_rfc3339(r) for r in ours] == [
        "2024-10-01T00:00:00+00:00",
        "2024-11-01T00:00:00+00:00",
    ]
    assert theirs == datetime(2024, 9, 2, tzinfo=UTC)  # croniter: every day


def test_every_accepted_schedule_is_also_accepted_by_croniter() -> None:
    accepted = [row[0] for row in VALID] + [row[0] for row in ORACLE]
    assert all(croniter.is_valid(schedule) for schedule in accepted)


# --- validation details ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("schedule", "contains"),
    [
        ("0 22 * * FRI-MON", '"5-6,0-1"'),
        ("0 0 * * 7", "Sunday is 0 or SUN"),
        ("0\t0 * * *", "separate the five fields with spaces"),
        ("0 0 31 2 *", "day 31 does not exist in February"),
        ("0 0 30,31 2 *", "day 30, 31 does not exist in February"),
        ("@every 5m", '"*/5 * * * *"'),
        ("x" * 201, "longer than 200 characters"),
    ],
)
def test_messages_say_what_to_write_instead(schedule: str, contains: str) -> None:
    problem = validate_schedule(schedule)
    assert problem is not None
    assert contains in problem


@pytest.mark.parametrize("value", [None, 5, 1.5, ["0", "0", "*", "*", "*"], {"cron": "x"}])
def test_schedule_of_the_wrong_type_is_a_message_not_a_crash(value: object) -> None:
    assert (
        validate_schedule(value) == 'must be a string, e.g. "0 3 * * *" (03:00 every day) or @daily'
    )


def test_schedule_that_fires_only_in_some_months_is_accepted() -> None:
    assert validate_schedule("0 0 31 1-3 *") is None
    assert validate_schedule("0 0 30 2 1") is None  # Mondays in February


@pytest.mark.parametrize(
    "zone", ["Etc/UTC", "UTC", "Europe/Berlin", "America/Argentina/Buenos_Aires", "Etc/GMT+5"]
)
def test_real_zones_are_accepted(zone: str) -> None:
    assert validate_time_zone(zone) is None


@pytest.mark.parametrize("zone", ["", "Local", "LOCAL", "localtime", 42, None])
def test_zones_that_are_not_places_are_refused(zone: object) -> None:
    assert validate_time_zone(zone) is not None


def test_next_runs_needs_an_aware_start() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_runs("0 0 * * *", "Etc/UTC", datetime(2024, 9, 1), 1)


def test_next_runs_is_strictly_after_start_and_ignores_sub_second_parts() -> None:
    start = datetime(2024, 9, 1, 3, 0, 0, 500000, tzinfo=UTC)
    assert _preview("0 3 * * *", "Etc/UTC", start, 1) == "2024-09-02T03:00:00+00:00"
    just_before = datetime(2024, 9, 1, 2, 59, 59, 999999, tzinfo=UTC)
    assert _preview("0 3 * * *", "Etc/UTC", just_before, 1) == "2024-09-01T03:00:00+00:00"


def test_next_runs_accepts_a_start_in_any_zone() -> None:
    start = datetime(2024, 8, 31, 23, 0, tzinfo=timezone(timedelta(hours=-7)))  # 08:00 Berlin
    assert _preview("0 9 * * *", "Europe/Berlin", start, 1) == "2024-09-01T09:00:00+02:00"


def test_next_runs_returns_no_more_than_asked() -> None:
    assert next_runs("* * * * *", "Etc/UTC", datetime(2024, 9, 1, tzinfo=UTC), 0) == []
    assert len(next_runs("* * * * *", "Etc/UTC", datetime(2024, 9, 1, tzinfo=UTC), 7)) == 7


def test_rfc3339_keeps_the_zone_offset() -> None:
    berlin = datetime(2024, 9, 1, 12, 0, 0, 123, tzinfo=ZoneInfo("Europe/Berlin"))
    assert format_rfc3339(berlin) == "2024-09-01T12:00:00+02:00"
    kolkata = datetime(2024, 9, 1, 12, 0, tzinfo=ZoneInfo("Asia/Kolkata"))
    assert format_rfc3339(kolkata) == "2024-09-01T12:00:00+05:30"
    st_johns = datetime(2024, 12, 1, 12, 0, tzinfo=ZoneInfo("America/St_Johns"))
    assert format_rfc3339(st_johns) == "2024-12-01T12:00:00-03:30"
    with pytest.raises(ValueError, match="aware"):
        format_rfc3339(datetime(2024, 9, 1))


# --- the CRD's CEL regex must never refuse what the operator accepts ------------------


def test_admission_pattern_accepts_every_valid_five_field_schedule() -> None:
    pattern = re.compile(ADMISSION_SCHEDULE_PATTERN)
    five_field = [
        s for s in [r[0] for r in VALID] + [r[0] for r in ORACLE] if not s.startswith("@")
    ]
    assert [s for s in five_field if not pattern.search(s)] == []


@pytest.mark.parametrize(
    "schedule",
    [
        "0 0 * * 7",
        "0 0 * * 8",
        "? 0 * * *",
        "0 0 L * *",
        "0 0 * * 1#2",
        "H 0 * * *",
        "60 * * * *",
        "0 24 * * *",
        "0 0 0 * *",
        "0 0 * 13 *",
        "*/0 * * * *",
        "0 0 * * MONDAY",
        "*-5 * * * *",
        "1,,2 * * * *",
        "0 0 15W * *",
        "+5 * * * *",
    ],
)
def test_admission_pattern_refuses_syntax_the_controller_refuses(schedule: str) -> None:
    assert re.search(ADMISSION_SCHEDULE_PATTERN, schedule) is None
    assert validate_schedule(schedule) is not None
