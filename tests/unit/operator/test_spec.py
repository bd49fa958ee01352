"""parse_spec: defaults, every field's rules, and no crash on any JSON shape."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from typing import Any

import pytest
from scheduledjob_operator.spec import (
    DATA_MAX_BYTES,
    DEFAULT_RESOURCES,
    FieldError,
    InvalidSpec,
    ScheduledJobSpec,
    parse_spec,
)

from tests.unit.operator._data import DEFAULTS


def _errors(spec: Any, name: str = "nightly") -> dict[str, str]:
    with pytest.raises(InvalidSpec) as caught:
        parse_spec(name, spec, DEFAULTS)
    return {error.field: error.message for error in caught.value.errors}


def _parse(**spec: Any) -> ScheduledJobSpec:
    spec.setdefault("schedule", "0 3 * * *")
    return parse_spec("nightly", spec, DEFAULTS)


def test_a_bare_schedule_gets_every_default() -> None:
    parsed = parse_spec("nightly", {"schedule": "0 3 * * *"}, DEFAULTS)
    assert parsed == ScheduledJobSpec(
        schedule="0 3 * * *",
        time_zone="Etc/UTC",
        handler="publish-draft-products",
        job_name="nightly",
        data={},
        api_url="http://medusa.shop.svc:9000",
        api_version="v2",
        credentials_secret_name="shopcron-backend",
        credentials_secret_key="apiKey",
        suspend=False,
        concurrency_policy="Forbid",
        starting_deadline_seconds=300,
        successful_jobs_history_limit=3,
        failed_jobs_history_limit=3,
        backoff_limit=2,
        active_deadline_seconds=3600,
        ttl_seconds_after_finished=None,
        dry_run=False,
        image="shopcron/jobs-runtime:dev",
        image_pull_policy="IfNotPresent",
        resources={kind: dict(values) for kind, values in DEFAULT_RESOURCES.items()},
    )


def test_schema_defaulted_values_read_the_same_as_absent_ones() -> None:
    # What the API server stores after applying the CRD's defaults.
    stored = {
        "schedule": "0 3 * * *",
        "timeZone": "Etc/UTC",
        "handler": "publish-draft-products",
        "data": {},
        "suspend": False,
        "concurrencyPolicy": "Forbid",
        "dryRun": False,
    }
    assert parse_spec("nightly", stored, DEFAULTS) == _parse()


def test_operator_defaults_apply_to_what_the_spec_leaves_out() -> None:
    defaults = replace(
        DEFAULTS, image_pull_policy="Always", api_version="v1", starting_deadline_seconds=None
    )
    parsed = parse_spec("nightly", {"schedule": "@daily"}, defaults)
    assert (parsed.image_pull_policy, parsed.api_version, parsed.starting_deadline_seconds) == (
        "Always",
        "v1",
        None,
    )


def test_explicit_values_win_over_defaults() -> None:
    parsed = _parse(
        timeZone="Europe/Berlin",
        jobName="publish-products",
        backend={
            "url": "https://shop.example.com/api",
            "apiVersion": "v1",
            "credentialsSecretRef": {"name": "medusa", "key": "token"},
        },
        suspend=True,
        concurrencyPolicy="Allow",
        startingDeadlineSeconds=0,
        successfulJobsHistoryLimit=0,
        failedJobsHistoryLimit=0,
        backoffLimit=0,
        activeDeadlineSeconds=1,
        ttlSecondsAfterFinished=0,
        dryRun=True,
    )
    assert parsed.time_zone == "Europe/Berlin"
    assert parsed.job_name == "publish-products"
    assert (parsed.api_url, parsed.api_version) == ("https://shop.example.com/api", "v1")
    assert (parsed.credentials_secret_name, parsed.credentials_secret_key) == ("medusa", "token")
    assert parsed.suspend is True
    assert parsed.dry_run is True
    assert parsed.concurrency_policy == "Allow"
    # Zero is a real value for these, not "use the default".
    assert parsed.starting_deadline_seconds == 0
    assert parsed.successful_jobs_history_limit == 0
    assert parsed.failed_jobs_history_limit == 0
    assert parsed.backoff_limit == 0
    assert parsed.ttl_seconds_after_finished == 0


def test_nulls_mean_absent() -> None:
    assert _parse(timeZone=None, data=None, backend=None, template=None) == _parse()


def test_every_problem_is_reported_at_once_in_field_order() -> None:
    with pytest.raises(InvalidSpec) as caught:
        parse_spec(
            "nightly",
            {
                "dryRun": "no",
                "schedule": "0 0 31 2 *",
                "timeZone": "Mars/Olympus",
                "backoffLimit": -1,
            },
            DEFAULTS,
        )
    fields = [error.field for error in caught.value.errors]
    assert fields == ["spec.schedule", "spec.timeZone", "spec.backoffLimit", "spec.dryRun"]
    message = str(caught.value)
    assert message.startswith("spec.schedule: can never run")
    assert '; spec.timeZone: unknown time zone "Mars/Olympus"' in message
    assert "\n" not in message


def test_invalid_spec_is_a_value_error_carrying_field_errors() -> None:
    error = InvalidSpec([FieldError("spec.schedule", "is required")])
    assert isinstance(error, ValueError)
    assert str(error) == "spec.schedule: is required"


@pytest.mark.parametrize("spec", [None, [], "0 3 * * *", 5, {}])
def test_a_spec_that_is_not_an_object_names_the_schedule_or_spec(spec: Any) -> None:
    errors = _errors(spec)
    assert set(errors) <= {"spec", "spec.schedule"}
    assert errors


def test_unknown_fields_are_reported_with_a_suggestion() -> None:
    errors = _errors(
        {"schedule": "@daily", "timezone": "Europe/Berlin", "template": {"imgae": "x"}}
    )
    assert errors["spec.timezone"] == "is not a field of spec: did you mean timeZone?"
    assert errors["spec.template.imgae"] == "is not a field of spec.template: did you mean image?"


@pytest.mark.parametrize(
    ("spec", "field", "contains"),
    [
        (
            {"schedule": "0 3 * * *", "handler": "publish-everything"},
            "spec.handler",
            "use one of publish-draft-products",
        ),
        (
            {"schedule": "0 3 * * *", "jobName": "nightly publish"},
            "spec.jobName",
            "publish-products",
        ),
        (
            {"schedule": "0 3 * * *", "jobName": "-x"},
            "spec.jobName",
            "starting and ending with a letter",
        ),
        ({"schedule": "0 3 * * *", "suspend": 1}, "spec.suspend", "true or false"),
        ({"schedule": "0 3 * * *", "backoffLimit": 2.5}, "spec.backoffLimit", "whole number"),
        ({"schedule": "0 3 * * *", "backoffLimit": True}, "spec.backoffLimit", "whole number"),
        ({"schedule": "0 3 * * *", "backoffLimit": 2**31}, "spec.backoffLimit", "out of range"),
        (
            {"schedule": "0 3 * * *", "activeDeadlineSeconds": 0},
            "spec.activeDeadlineSeconds",
            "use 1 to",
        ),
        (
            {"schedule": "0 3 * * *", "concurrencyPolicy": "forbid"},
            "spec.concurrencyPolicy",
            "Forbid, Allow, Replace",
        ),
        ({"schedule": "0 3 * * *", "backend": "http://x"}, "spec.backend", "must be an object"),
        (
            {"schedule": "0 3 * * *", "backend": {"url": "medusa:9000"}},
            "spec.backend.url",
            "http://",
        ),
        (
            {"schedule": "0 3 * * *", "backend": {"url": "https://u:p@shop.example.com"}},
            "spec.backend.url",
            "Secret",
        ),
        (
            {"schedule": "0 3 * * *", "backend": {"url": "http://shop:port"}},
            "spec.backend.url",
            "not a valid URL",
        ),
        (
            {"schedule": "0 3 * * *", "backend": {"url": "http://shop/#x"}},
            "spec.backend.url",
            "fragment",
        ),
        (
            {"schedule": "0 3 * * *", "backend": {"credentialsSecretRef": {"name": "medusa"}}},
            "spec.backend.credentialsSecretRef.key",
            "required",
        ),
        (
            {
                "schedule": "0 3 * * *",
                "backend": {"credentialsSecretRef": {"name": "Medusa", "key": "k"}},
            },
            "spec.backend.credentialsSecretRef.name",
            "lower-case",
        ),
        (
            {"schedule": "0 3 * * *", "backend": {"credentialsSecretRef": "medusa"}},
            "spec.backend.credentialsSecretRef",
            "must be an object",
        ),
        (
            {"schedule": "0 3 * * *", "template": {"image": ""}},
            "spec.template.image",
            "image reference",
        ),
        (
            {"schedule": "0 3 * * *", "template": {"serviceAccountName": ""}},
            "spec.template.serviceAccountName",
            "is empty",
        ),
        (
            {"schedule": "0 3 * * *", "template": {"imagePullSecrets": [{}]}},
            "spec.template.imagePullSecrets[0].name",
            "is required",
        ),
        (
            {"schedule": "0 3 * * *", "template": {"imagePullSecrets": ["registry"]}},
            "spec.template.imagePullSecrets[0]",
            "must be an object",
        ),
    ],
)
def test_field_rules(spec: dict[str, Any], field: str, contains: str) -> None:
    errors = _errors(spec)
    assert field in errors, errors
    assert contains in errors[field]


def test_job_name_defaults_to_the_resource_name_even_a_long_dotted_one() -> None:
    name = "shop.nightly-" + "x" * 200
    assert parse_spec(name, {"schedule": "@daily"}, DEFAULTS).job_name == name


# --- data ----------------------------------------------------------------------------


def test_data_is_kept_as_plain_json_and_rendered_compact_and_sorted() -> None:
    parsed = _parse(data={"b": [1, 2], "a": {"z": None, "y": "Grüße"}})
    assert parsed.data == {"a": {"y": "Grüße", "z": None}, "b": [1, 2]}
    assert parsed.data_json == '{"a":{"y":"Grüße","z":null},"b":[1,2]}'


def test_data_is_copied_so_later_changes_to_the_input_do_not_leak_in() -> None:
    data: dict[str, Any] = {"ids": ["p1"]}
    parsed = _parse(data=data)
    data["ids"].append("p2")
    assert parsed.data == {"ids": ["p1"]}


def test_data_just_under_the_limit_is_accepted_and_just_over_is_not() -> None:
    overhead = len(json.dumps({"x": ""}, separators=(",", ":")))
    assert _parse(data={"x": "a" * (DATA_MAX_BYTES - overhead)})
    errors = _errors({"schedule": "@daily", "data": {"x": "a" * (DATA_MAX_BYTES - overhead + 1)}})
    assert "more than the 32768 that fit" in errors["spec.data"]


def test_data_size_counts_bytes_not_characters() -> None:
    errors = _errors({"schedule": "@daily", "data": {"x": "ü" * (DATA_MAX_BYTES // 2)}})
    assert "spec.data" in errors


# --- template --------------------------------------------------------------------------


def test_template_resources_replace_the_defaults_as_a_whole() -> None:
    parsed = _parse(template={"resources": {"limits": {"memory": "32Mi"}}})
    assert parsed.resources == {"limits": {"memory": "32Mi"}}


def test_resource_quantities_compare_by_value() -> None:
    ok = _parse(template={"resources": {"requests": {"cpu": "0.5"}, "limits": {"cpu": "500m"}}})
    assert ok.resources["requests"] == {"cpu": "0.5"}
    errors = _errors(
        {
            "schedule": "@daily",
            "template": {
                "resources": {"requests": {"memory": "1Gi"}, "limits": {"memory": "1000Mi"}}
            },
        }
    )
    assert (
        "less than or equal to the memory limit"
        in errors["spec.template.resources.requests.memory"]
    )


def test_extended_resources_need_equal_limits() -> None:
    assert _parse(
        template={
            "resources": {"requests": {"example.com/gpu": 1}, "limits": {"example.com/gpu": "1"}}
        }
    )
    errors = _errors(
        {"schedule": "@daily", "template": {"resources": {"requests": {"example.com/gpu": 1}}}}
    )
    assert "extended resource" in errors["spec.template.resources.limits.example.com/gpu"]


def test_env_keeps_order_and_drops_empty_values() -> None:
    parsed = _parse(
        template={
            "env": [
                {"name": "SHOPCRON_LOG_FORMAT", "value": "json"},
                {"name": "EMPTY", "value": ""},
                {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
            ]
        }
    )
    assert parsed.env == (
        {"name": "SHOPCRON_LOG_FORMAT", "value": "json"},
        {"name": "EMPTY"},
        {"name": "TOKEN", "valueFrom": {"secretKeyRef": {"key": "k", "name": "s"}}},
    )


@pytest.mark.parametrize(
    ("env", "field", "contains"),
    [
        ([{"name": "SHOPCRON_DATA", "value": "{}"}], "spec.template.env[0].name", "from spec.data"),
        (
            [{"name": "SHOPCRON_DRY_RUN", "value": "true"}],
            "spec.template.env[0].name",
            "from spec.dryRun",
        ),
        (
            [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}],
            "spec.template.env[1].name",
            "listed twice",
        ),
        ([{"name": "1A", "value": "1"}], "spec.template.env[0].name", "not starting with a digit"),
        ([{"value": "1"}], "spec.template.env[0].name", "variable name"),
        ([{"name": "A", "value": 1}], "spec.template.env[0].value", "quote numbers"),
        (
            [{"name": "A", "value": "1", "valueFrom": {"fieldRef": {"fieldPath": "x"}}}],
            "spec.template.env[0]",
            "both",
        ),
        ([{"name": "A", "valueFrom": {}}], "spec.template.env[0].valueFrom", "exactly one of"),
        (
            [{"name": "A", "valueFrom": {"secretKeyRef": {"name": "s"}}}],
            "spec.template.env[0].valueFrom.secretKeyRef",
            "name and key",
        ),
        ("A=1", "spec.template.env", "must be a list"),
        (["A=1"], "spec.template.env[0]", "must be an object"),
    ],
)
def test_env_rules(env: Any, field: str, contains: str) -> None:
    errors = _errors({"schedule": "@daily", "template": {"env": env}})
    assert field in errors, errors
    assert contains in errors[field]


def test_other_shopcron_tuning_variables_are_allowed() -> None:
    parsed = _parse(template={"env": [{"name": "SHOPCRON_BATCH_SIZE", "value": "100"}]})
    assert parsed.env == ({"name": "SHOPCRON_BATCH_SIZE", "value": "100"},)


@pytest.mark.parametrize(
    ("toleration", "field", "contains"),
    [
        (
            {"operator": "Equal", "value": "x"},
            "spec.template.tolerations[0].operator",
            "must be Exists when key is empty",
        ),
        (
            {"key": "k", "operator": "Exists", "value": "x"},
            "spec.template.tolerations[0].value",
            "must be empty",
        ),
        (
            {"key": "k", "effect": "NoSchedule", "tolerationSeconds": 5},
            "spec.template.tolerations[0].tolerationSeconds",
            "NoExecute",
        ),
        ({"key": "k", "effect": "Sometimes"}, "spec.template.tolerations[0].effect", "NoSchedule"),
        ({"key": "bad key"}, "spec.template.tolerations[0].key", "not a valid label key"),
    ],
)
def test_toleration_rules(toleration: dict[str, Any], field: str, contains: str) -> None:
    errors = _errors({"schedule": "@daily", "template": {"tolerations": [toleration]}})
    assert field in errors, errors
    assert contains in errors[field]


def test_tolerations_are_kept_without_empty_fields() -> None:
    parsed = _parse(template={"tolerations": [{"operator": "Exists", "effect": "", "key": ""}]})
    assert parsed.tolerations == ({"operator": "Exists"},)


def test_node_selector_checks_label_syntax() -> None:
    assert _parse(
        template={"nodeSelector": {"kubernetes.io/arch": "amd64", "pool": ""}}
    ).node_selector
    errors = _errors(
        {"schedule": "@daily", "template": {"nodeSelector": {"pool": "a b", "x/": "1", "n": 1}}}
    )
    assert set(errors) == {
        "spec.template.nodeSelector.pool",
        "spec.template.nodeSelector.x/",
        "spec.template.nodeSelector.n",
    }


# --- robustness --------------------------------------------------------------------------

_SCALARS: list[Any] = [
    None,
    True,
    False,
    0,
    -1,
    2**40,
    1.5,
    "",
    "x",
    "0 3 * * *",
    "Europe/Berlin",
    "Ü",
]


def _random_json(rng: random.Random, depth: int) -> Any:
    roll = rng.random()
    if depth <= 0 or roll < 0.5:
        return rng.choice(_SCALARS)
    if roll < 0.7:
        return [_random_json(rng, depth - 1) for _ in range(rng.randint(0, 3))]
    keys = [
        "schedule",
        "timeZone",
        "data",
        "backend",
        "template",
        "env",
        "name",
        "value",
        "url",
        "credentialsSecretRef",
        "resources",
        "requests",
        "limits",
        "cpu",
        "tolerations",
        "key",
        "valueFrom",
        "secretKeyRef",
        "nodeSelector",
        "imagePullSecrets",
        "suspend",
        "backoffLimit",
    ]
    return {rng.choice(keys): _random_json(rng, depth - 1) for _ in range(rng.randint(0, 4))}


def test_any_json_shape_gives_a_spec_or_invalid_spec_never_a_crash() -> None:
    rng = random.Random(7)
    outcomes = {"parsed": 0, "invalid": 0}
    unhelpful: list[FieldError] = []
    for _ in range(3000):
        spec = _random_json(rng, 4)
        if isinstance(spec, dict) and rng.random() < 0.5:
            spec["schedule"] = "0 3 * * *"
        try:
            parse_spec("fuzz", spec, DEFAULTS)
        except InvalidSpec as exc:
            outcomes["invalid"] += 1
            unhelpful.extend(
                e for e in exc.errors if not (e.field.startswith("spec") and e.message)
            )
            unhelpful.extend([FieldError("?", "no errors listed")] if not exc.errors else [])
        else:
            outcomes["parsed"] += 1
    assert unhelpful == []
    assert outcomes["parsed"] > 0
    assert outcomes["invalid"] > 0
