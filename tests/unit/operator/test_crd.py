"""The CRD and the operator's parser describe the same API.

The CRD refuses at admission; parse_spec re-checks for objects stored before a schema
change. These tests keep the two in step (fields, enums, defaults, the CEL schedule
rules) and check the parts of the CRD a user sees (printer columns, status, docs).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from scheduledjob_operator import schedule as schedule_rules
from scheduledjob_operator.quantity import QUANTITY_PATTERN
from scheduledjob_operator.spec import (
    API_VERSIONS,
    BACKEND_FIELDS,
    CONCURRENCY_POLICIES,
    IMAGE_PULL_POLICIES,
    KNOWN_HANDLERS,
    RESERVED_ENV,
    SPEC_FIELDS,
    TEMPLATE_FIELDS,
    TOLERATION_EFFECTS,
    TOLERATION_OPERATORS,
    Defaults,
)

from tests.unit.operator import _data

SCHEMA = _data.crd_schema()
SPEC = SCHEMA["properties"]["spec"]
STATUS = SCHEMA["properties"]["status"]
PROPS = SPEC["properties"]
TEMPLATE = PROPS["template"]["properties"]


def test_identity() -> None:
    crd = _data.crd()
    assert crd["metadata"]["name"] == "scheduledjobs.shopcron.io"
    assert crd["spec"]["group"] == "shopcron.io"
    assert crd["spec"]["scope"] == "Namespaced"
    names = crd["spec"]["names"]
    assert (names["kind"], names["plural"], names["shortNames"]) == (
        "ScheduledJob",
        "scheduledjobs",
        ["sj"],
    )
    [version] = crd["spec"]["versions"]
    assert (version["name"], version["served"], version["storage"]) == ("v1alpha1", True, True)
    assert version["subresources"] == {"status": {}}


def test_printer_columns() -> None:
    columns = {
        c["name"]: c["jsonPath"]
        for c in _data.crd()["spec"]["versions"][0]["additionalPrinterColumns"]
    }
    assert columns == {
        "Schedule": ".spec.schedule",
        "TimeZone": ".spec.timeZone",
        "Suspend": ".spec.suspend",
        "Ready": '.status.conditions[?(@.type=="Ready")].status',
        "Next Run": ".status.nextScheduleTimes[0]",
        "Last Schedule": ".status.lastScheduleTime",
        "Last Result": ".status.lastRun.result",
        "Age": ".metadata.creationTimestamp",
    }


def test_fields_match_the_parser() -> None:
    assert set(PROPS) == set(SPEC_FIELDS)
    assert set(PROPS["backend"]["properties"]) == set(BACKEND_FIELDS)
    assert set(TEMPLATE) == set(TEMPLATE_FIELDS)
    assert SPEC["required"] == ["schedule"]
    assert SCHEMA["required"] == ["spec"]


def test_enums_match_the_parser() -> None:
    assert PROPS["handler"]["enum"] == list(KNOWN_HANDLERS)
    assert PROPS["concurrencyPolicy"]["enum"] == list(CONCURRENCY_POLICIES)
    assert PROPS["backend"]["properties"]["apiVersion"]["enum"] == list(API_VERSIONS)
    assert TEMPLATE["imagePullPolicy"]["enum"] == list(IMAGE_PULL_POLICIES)
    toleration = TEMPLATE["tolerations"]["items"]["properties"]
    assert toleration["operator"]["enum"] == list(TOLERATION_OPERATORS)
    assert toleration["effect"]["enum"] == [*TOLERATION_EFFECTS, ""]


def test_schema_defaults_match_the_operator_defaults() -> None:
    defaults = Defaults(
        runtime_image="i",
        api_url="http://x",
        credentials_secret_name="s",
        credentials_secret_key="k",
    )
    assert PROPS["timeZone"]["default"] == defaults.time_zone == schedule_rules.DEFAULT_TIME_ZONE
    assert PROPS["handler"]["default"] == defaults.handler
    assert PROPS["concurrencyPolicy"]["default"] == defaults.concurrency_policy
    assert PROPS["backend"]["properties"]["apiVersion"]["default"] == defaults.api_version
    assert PROPS["suspend"]["default"] is False
    assert PROPS["dryRun"]["default"] is False
    assert PROPS["data"]["default"] == {}


def _nodes(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    yield path, node
    for key, child in node.get("properties", {}).items():
        yield from _nodes(child, f"{path}.{key}")
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            yield from _nodes(node[key], f"{path}[]")


def test_schema_is_structural_and_bounded() -> None:
    for path, node in _nodes(SCHEMA):
        assert "type" in node or node.get("x-kubernetes-int-or-string"), path
        if node.get("type") == "object" and path:
            assert (
                "properties" in node
                or "additionalProperties" in node
                or node.get("x-kubernetes-preserve-unknown-fields")
                or path == ".metadata"
            ), path
        if node.get("format") == "int32":
            assert node.get("maximum", 2**31 - 1) <= 2**31 - 1, path
        if node.get("type") == "array" and path.startswith(".spec"):
            assert "maxItems" in node, path


def test_only_data_keeps_unknown_fields() -> None:
    kept = [
        path for path, node in _nodes(SCHEMA) if node.get("x-kubernetes-preserve-unknown-fields")
    ]
    # spec.data is the user's free JSON; status.kopf is kopf's own bookkeeping.
    assert kept == [".spec.data", ".status.kopf"]


def test_every_spec_field_is_explained() -> None:
    for name, node in PROPS.items():
        assert len(node.get("description", "")) > 20, name
    explained = PROPS["schedule"]["description"]
    for term in ("minute hour", "day-of-week", "@daily", "JAN-DEC", "L, W, #, H", "TZ=", "EITHER"):
        assert term in explained


def test_status_declares_every_field_the_operator_writes() -> None:
    # Undeclared status fields are pruned silently by the API server.
    assert set(STATUS["properties"]) == {
        "observedGeneration",
        "conditions",
        "cronJobName",
        "nextScheduleTimes",
        "lastScheduleTime",
        "lastSuccessfulTime",
        "lastRun",
        "activeRuns",
        "consecutiveFailures",
        "lastManualRun",
        "kopf",
    }
    condition = STATUS["properties"]["conditions"]["items"]["properties"]
    assert set(condition) == {
        "type",
        "status",
        "reason",
        "message",
        "lastTransitionTime",
        "observedGeneration",
    }
    last_run = STATUS["properties"]["lastRun"]["properties"]
    assert set(last_run) == {
        "jobName",
        "trigger",
        "startTime",
        "completionTime",
        "result",
        "summary",
    }
    assert last_run["trigger"]["enum"] == ["Schedule", "Manual"]
    assert last_run["result"]["enum"] == ["Running", "Succeeded", "Failed"]


# --- the CEL rules, evaluated with Python's re (the regexes avoid RE2-only syntax) ------


def _rules(node: dict[str, Any]) -> list[str]:
    return [rule["rule"] for rule in node.get("x-kubernetes-validations", [])]


def _regexes(rule: str) -> list[str]:
    return re.findall(r"self\.matches\('([^']*)'\)", rule)


def test_cel_patterns_are_the_parsers_patterns() -> None:
    schedule_regexes = [r for rule in _rules(PROPS["schedule"]) for r in _regexes(rule)]
    assert schedule_rules.ADMISSION_SCHEDULE_PATTERN in schedule_regexes
    assert schedule_rules.ADMISSION_TIME_ZONE_PATTERN in _regexes(_rules(PROPS["timeZone"])[0])
    assert PROPS["schedule"]["maxLength"] == schedule_rules.SCHEDULE_MAX_LENGTH
    quantity = TEMPLATE["resources"]["properties"]["requests"]["additionalProperties"]["pattern"]
    assert quantity == QUANTITY_PATTERN
    reserved = _rules(TEMPLATE["env"]["items"]["properties"]["name"])[1]
    assert sorted(re.findall(r"'([A-Z_]+)'", reserved)) == sorted(RESERVED_ENV)
    macros = re.findall(r"'(@[a-z]+)'", _rules(PROPS["schedule"])[1])
    assert macros == list(schedule_rules.MACROS)


def _schedule_admitted(value: str) -> bool:
    """The four CEL rules on spec.schedule, read from the CRD and run in Python."""
    no_tz, macro, five, syntax = _rules(PROPS["schedule"])
    assert no_tz == "!self.contains('TZ')"
    macros = re.findall(r"'(@[a-z]+)'", macro)
    [shape] = _regexes(five)
    grammar = _regexes(syntax)[-1]
    checks = [
        "TZ" not in value,
        "TZ" in value or not value.startswith("@") or value in macros,
        "TZ" in value or value.startswith("@") or re.search(shape, value) is not None,
        "TZ" in value
        or value.startswith("@")
        or re.search(shape, value) is None
        or re.search(grammar, value) is not None,
    ]
    return 0 < len(value) <= PROPS["schedule"]["maxLength"] and all(checks)


def test_admission_never_refuses_a_schedule_the_operator_accepts() -> None:
    accepted = [row[0] for row in _data.tsv("schedules.tsv") if row[2] == "valid"]
    accepted += [row[0] for row in _data.tsv("robfig-next.tsv")]
    assert [s for s in accepted if not _schedule_admitted(s)] == []


@pytest.mark.parametrize(
    "case",
    [
        c
        for c in _data.cases("invalid-scheduledjobs.yaml")
        if c.field == "spec.schedule" and isinstance((c.spec or {}).get("schedule"), str)
    ],
    ids=str,
)
def test_schedule_cases_are_refused_where_the_case_file_says(case: _data.Case) -> None:
    assert _schedule_admitted(case.spec["schedule"]) is (case.expect != "admission")


@pytest.mark.parametrize(
    ("zone", "admitted"),
    [
        ("Europe/Berlin", True),
        ("America/Argentina/Buenos_Aires", True),
        ("Etc/GMT+5", True),
        ("Mars/Olympus", True),  # well-formed: only the operator can look it up
        ("Europe/ Berlin", False),
        ("UTC+02:00", False),
        ("../etc/passwd", False),
        ("Local", False),
        ("localtime", False),
        ("America/Very_Long_City_Name", False),  # Kubernetes: at most 14 per part
    ],
)
def test_time_zone_rules(zone: str, admitted: bool) -> None:
    shape, not_local = (_regexes(rule)[0] for rule in _rules(PROPS["timeZone"]))
    result = re.search(shape, zone) is not None and re.search(not_local, zone) is None
    assert result is admitted
    if not admitted:
        assert schedule_rules.validate_time_zone(zone) is not None
