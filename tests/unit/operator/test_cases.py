"""The case files in data/: every bad ScheduledJob is refused with a useful message,
every good one renders a CronJob the API server and the cronjob controller accept."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from scheduledjob_operator.names import label_key_problem, label_value_problem
from scheduledjob_operator.render import render_cronjob
from scheduledjob_operator.schedule import next_runs
from scheduledjob_operator.spec import InvalidSpec, parse_spec

from tests.unit.operator import _data
from tests.unit.operator._data import DEFAULTS

INVALID = _data.cases("invalid-scheduledjobs.yaml")
VALID = _data.cases("valid-scheduledjobs.yaml")
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


def test_case_files_are_usable_in_one_namespace() -> None:
    names = [case.name for case in INVALID + VALID]
    assert len(names) == len(set(names))
    assert len(INVALID) >= 30
    assert {case.expect for case in INVALID} == {"admission", "ready-false"}
    assert {case.expect for case in VALID} == {"ready-true"}
    assert all(case.message and case.field for case in INVALID)


@pytest.mark.parametrize("case", INVALID, ids=str)
def test_operator_refuses_every_bad_scheduledjob_naming_the_field(case: _data.Case) -> None:
    # Admission cases too: an object stored before a schema change reaches the operator.
    with pytest.raises(InvalidSpec) as caught:
        parse_spec(case.name, case.spec or {}, DEFAULTS)
    fields = [error.field for error in caught.value.errors]
    assert case.field in fields
    if case.expect == "ready-false":
        assert case.message in str(caught.value)


@pytest.mark.parametrize("case", VALID, ids=str)
def test_every_good_scheduledjob_renders_an_acceptable_cronjob(case: _data.Case) -> None:
    spec = parse_spec(case.name, case.spec, DEFAULTS)
    cronjob = render_cronjob(case.name, "shop", spec, DEFAULTS)
    name = cronjob["metadata"]["name"]
    if case.cronjob_name is not None:
        assert name == case.cronjob_name
    # What kube-apiserver's CronJob validation and the Job it spawns require.
    assert len(name) <= 52
    assert DNS_LABEL.fullmatch(name)
    for labels in (
        cronjob["metadata"]["labels"],
        cronjob["spec"]["jobTemplate"]["metadata"]["labels"],
        cronjob["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"],
    ):
        assert all(
            label_key_problem(k) is None and label_value_problem(v) is None
            for k, v in labels.items()
        )
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] in ("Never", "OnFailure")
    env_names = [var["name"] for var in pod["containers"][0]["env"]]
    assert len(env_names) == len(set(env_names))
    # And the cronjob controller can compute when it runs.
    assert next_runs(spec.schedule, spec.time_zone, datetime(2024, 9, 1, tzinfo=UTC), 2)
