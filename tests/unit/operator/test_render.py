"""The rendered CronJob, and drift detection against what the API server returns."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml
from scheduledjob_operator.render import (
    LABEL_SCHEDULEDJOB,
    desired_differs,
    drift,
    render_cronjob,
)
from scheduledjob_operator.spec import parse_spec

from tests.unit.operator import _data
from tests.unit.operator._data import DEFAULTS


def _render(name: str = "nightly", namespace: str = "shop", **spec: Any) -> dict[str, Any]:
    spec.setdefault("schedule", "0 3 * * *")
    return render_cronjob(name, namespace, parse_spec(name, spec, DEFAULTS), DEFAULTS)


def _pod(cronjob: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    return pod


def _env(cronjob: dict[str, Any]) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = _pod(cronjob)["containers"][0]["env"]
    return env


def test_cronjob_carries_schedule_zone_and_policies() -> None:
    spec = _render(
        schedule="*/15 9-17 * * MON-FRI",
        timeZone="Europe/Berlin",
        suspend=True,
        concurrencyPolicy="Replace",
        startingDeadlineSeconds=60,
        successfulJobsHistoryLimit=1,
        failedJobsHistoryLimit=4,
    )["spec"]
    assert {k: v for k, v in spec.items() if k != "jobTemplate"} == {
        "schedule": "*/15 9-17 * * MON-FRI",
        "timeZone": "Europe/Berlin",
        "suspend": True,
        "concurrencyPolicy": "Replace",
        "startingDeadlineSeconds": 60,
        "successfulJobsHistoryLimit": 1,
        "failedJobsHistoryLimit": 4,
    }


def test_time_zone_is_always_explicit() -> None:
    assert _render()["spec"]["timeZone"] == "Etc/UTC"


def test_identity_and_labels_on_cronjob_job_and_pod() -> None:
    cronjob = _render(name="nightly", namespace="shop")
    assert cronjob["apiVersion"] == "batch/v1"
    assert cronjob["kind"] == "CronJob"
    assert cronjob["metadata"]["name"] == "nightly"
    assert cronjob["metadata"]["namespace"] == "shop"
    assert "ownerReferences" not in cronjob["metadata"]
    expected = {
        "app.kubernetes.io/name": "shopcron-job",
        "app.kubernetes.io/managed-by": "shopcron",
        "shopcron.io/scheduledjob": "nightly",
        "shopcron.io/handler": "publish-draft-products",
    }
    assert cronjob["metadata"]["labels"] == expected
    assert cronjob["spec"]["jobTemplate"]["metadata"]["labels"] == expected
    assert cronjob["spec"]["jobTemplate"]["spec"]["template"]["metadata"]["labels"] == expected


def test_long_names_get_a_short_cronjob_name_and_a_valid_label() -> None:
    name = "nightly-publish-of-all-draft-products-for-the-european-storefront-and-marketplace"
    cronjob = _render(name=name)
    assert len(cronjob["metadata"]["name"]) <= 52
    label = cronjob["metadata"]["labels"][LABEL_SCHEDULEDJOB]
    assert len(label) <= 63
    assert label != name


def test_job_settings() -> None:
    job = _render(backoffLimit=0, activeDeadlineSeconds=90, ttlSecondsAfterFinished=600)["spec"][
        "jobTemplate"
    ]["spec"]
    assert (job["backoffLimit"], job["activeDeadlineSeconds"], job["ttlSecondsAfterFinished"]) == (
        0,
        90,
        600,
    )


def test_unset_optional_fields_are_not_rendered() -> None:
    cronjob = _render()
    assert "ttlSecondsAfterFinished" not in cronjob["spec"]["jobTemplate"]["spec"]
    pod = _pod(cronjob)
    for key in ("serviceAccountName", "nodeSelector", "tolerations", "imagePullSecrets"):
        assert key not in pod


def test_configuration_errors_fail_the_job_without_retries() -> None:
    policy = _render()["spec"]["jobTemplate"]["spec"]["podFailurePolicy"]
    fail_job = policy["rules"][0]
    assert fail_job["action"] == "FailJob"
    assert fail_job["onExitCodes"] == {
        "containerName": "jobs-runtime",
        "operator": "In",
        "values": [2],
    }


def test_pod_is_hardened_and_never_restarts() -> None:
    pod = _pod(_render())
    assert pod["restartPolicy"] == "Never"
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": 65532,
        "runAsGroup": 65532,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    container = pod["containers"][0]
    assert container["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    # A read-only root still needs somewhere for temporary files.
    assert container["volumeMounts"] == [{"name": "tmp", "mountPath": "/tmp"}]
    assert pod["volumes"] == [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}]


def test_container_runs_jobs_runtime_with_a_termination_message() -> None:
    container = _pod(
        _render(template={"image": "registry.example.com/rt:1.2", "imagePullPolicy": "Always"})
    )["containers"][0]
    assert container["name"] == "jobs-runtime"
    assert container["command"] == ["jobs-runtime"]
    assert container["image"] == "registry.example.com/rt:1.2"
    assert container["imagePullPolicy"] == "Always"
    assert container["terminationMessagePath"] == "/dev/termination-log"
    assert container["terminationMessagePolicy"] == "FallbackToLogsOnError"


def test_default_resources_are_small_requests_and_limits() -> None:
    assert _pod(_render())["containers"][0]["resources"] == {
        "requests": {"cpu": "50m", "memory": "64Mi"},
        "limits": {"cpu": "500m", "memory": "256Mi"},
    }


def test_runtime_environment_follows_the_contract_then_user_variables() -> None:
    env = _env(
        _render(
            jobName="publish-products",
            data={"limit": 10, "filter": {"collection": "summer"}},
            backend={
                "url": "https://shop.example.com/api",
                "apiVersion": "v1",
                "credentialsSecretRef": {"name": "medusa", "key": "token"},
            },
            dryRun=True,
            template={"env": [{"name": "SHOPCRON_LOG_FORMAT", "value": "json"}]},
        )
    )
    assert env == [
        {"name": "SHOPCRON_JOB_NAME", "value": "publish-products"},
        {"name": "SHOPCRON_HANDLER", "value": "publish-draft-products"},
        {"name": "SHOPCRON_DATA", "value": '{"filter":{"collection":"summer"},"limit":10}'},
        {"name": "SHOPCRON_API_URL", "value": "https://shop.example.com/api"},
        {"name": "SHOPCRON_API_VERSION", "value": "v1"},
        {"name": "SHOPCRON_DRY_RUN", "value": "true"},
        {
            "name": "SHOPCRON_API_KEY",
            "valueFrom": {"secretKeyRef": {"name": "medusa", "key": "token"}},
        },
        {"name": "SHOPCRON_LOG_FORMAT", "value": "json"},
    ]


def test_credential_is_never_inline() -> None:
    for var in _env(_render()):
        if var["name"] == "SHOPCRON_API_KEY":
            assert "value" not in var
            assert var["valueFrom"]["secretKeyRef"] == {"name": "shopcron-backend", "key": "apiKey"}


def test_data_renders_as_an_empty_object_by_default_and_dry_run_false() -> None:
    env = {var["name"]: var.get("value") for var in _env(_render())}
    assert env["SHOPCRON_DATA"] == "{}"
    assert env["SHOPCRON_DRY_RUN"] == "false"


def test_pod_overrides() -> None:
    pod = _pod(
        _render(
            template={
                "nodeSelector": {"pool": "batch", "kubernetes.io/arch": "amd64"},
                "tolerations": [
                    {
                        "key": "dedicated",
                        "operator": "Equal",
                        "value": "jobs",
                        "effect": "NoSchedule",
                    }
                ],
                "serviceAccountName": "shopcron-jobs",
                "imagePullSecrets": [{"name": "registry"}],
                "resources": {"requests": {"cpu": "100m"}},
            }
        )
    )
    assert pod["nodeSelector"] == {"kubernetes.io/arch": "amd64", "pool": "batch"}
    assert pod["tolerations"] == [
        {"effect": "NoSchedule", "key": "dedicated", "operator": "Equal", "value": "jobs"}
    ]
    assert pod["serviceAccountName"] == "shopcron-jobs"
    assert pod["imagePullSecrets"] == [{"name": "registry"}]
    assert pod["containers"][0]["resources"] == {"requests": {"cpu": "100m"}}


def test_rendering_is_deterministic() -> None:
    spec: dict[str, Any] = {
        "schedule": "@daily",
        "data": {"b": 1, "a": 2},
        "template": {"nodeSelector": {"z": "1", "a": "2"}},
    }
    reordered: dict[str, Any] = {
        "template": {"nodeSelector": {"a": "2", "z": "1"}},
        "data": {"a": 2, "b": 1},
        "schedule": "@daily",
    }
    first = json.dumps(_render(**spec))
    assert first == json.dumps(_render(**spec))
    assert first == json.dumps(_render(**reordered))


def test_rendered_cronjob_is_plain_json() -> None:
    cronjob = _render(data={"x": [1, {"y": None}]})
    assert json.loads(json.dumps(cronjob)) == cronjob


# --- drift -------------------------------------------------------------------------------


def _every_field() -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the API server returned, what render_cronjob produces) for the same spec."""
    case = next(c for c in _data.cases("valid-scheduledjobs.yaml") if c.name == "every-field")
    desired = render_cronjob(
        "every-field", "shop", parse_spec(case.name, case.spec, DEFAULTS), DEFAULTS
    )
    actual: dict[str, Any] = _data.load_yaml("cronjob-every-field-from-apiserver.yaml")
    return actual, desired


def test_server_defaults_and_canonical_quantities_are_not_drift() -> None:
    actual, desired = _every_field()
    assert drift(actual["spec"], desired["spec"], ("spec",)) == []
    assert desired_differs(actual, desired) is False
    # The fixture really is server-shaped, or this test would prove nothing.
    pod = _pod(actual)
    assert pod["dnsPolicy"] == "ClusterFirst"
    assert pod["containers"][0]["resources"]["requests"]["cpu"] == "100m"
    assert _pod(desired)["containers"][0]["resources"]["requests"]["cpu"] == "0.1"


def _edited(edit: Any) -> bool:
    actual, desired = _every_field()
    edited = copy.deepcopy(actual)
    edit(edited)
    return desired_differs(edited, desired)


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda cj: cj["spec"].update(schedule="0 4 * * *"), id="schedule"),
        pytest.param(lambda cj: cj["spec"].update(timeZone="Etc/UTC"), id="time zone"),
        pytest.param(lambda cj: cj["spec"].update(suspend=False), id="suspend"),
        pytest.param(lambda cj: cj["spec"].pop("startingDeadlineSeconds"), id="deadline removed"),
        pytest.param(
            lambda cj: cj["metadata"]["labels"].pop("shopcron.io/scheduledjob"), id="label removed"
        ),
        pytest.param(
            lambda cj: cj["spec"]["jobTemplate"]["spec"].update(backoffLimit=6), id="backoff"
        ),
        pytest.param(lambda cj: _pod(cj)["containers"][0].update(image="evil:latest"), id="image"),
        pytest.param(lambda cj: _pod(cj)["containers"][0]["env"].pop(), id="env removed"),
        pytest.param(lambda cj: _pod(cj)["containers"][0]["env"].reverse(), id="env reordered"),
        pytest.param(lambda cj: _pod(cj)["containers"][0]["env"][2].update(value="{}"), id="data"),
        pytest.param(
            lambda cj: _pod(cj)["containers"].append({"name": "x", "image": "y"}),
            id="container added",
        ),
        pytest.param(
            lambda cj: _pod(cj)["nodeSelector"].update(extra="1"), id="node selector key added"
        ),
        pytest.param(
            lambda cj: _pod(cj)["containers"][0]["resources"]["limits"].update(cpu="2"),
            id="limit",
        ),
        pytest.param(
            lambda cj: _pod(cj)["containers"][0]["resources"]["limits"].update(
                **{"ephemeral-storage": "1Gi"}
            ),
            id="limit added",
        ),
        pytest.param(
            lambda cj: _pod(cj)["containers"][0]["securityContext"].update(privileged=True),
            id="privileged",
        ),
        pytest.param(lambda cj: _pod(cj)["securityContext"].update(runAsUser=0), id="root"),
        pytest.param(lambda cj: _pod(cj).pop("tolerations"), id="tolerations removed"),
    ],
)
def test_edits_by_others_are_drift(edit: Any) -> None:
    assert _edited(edit) is True


@pytest.mark.parametrize(
    "edit",
    [
        pytest.param(lambda cj: cj["metadata"]["labels"].update(team="shop"), id="extra label"),
        pytest.param(lambda cj: cj["metadata"].update(annotations={"note": "x"}), id="annotation"),
        pytest.param(
            lambda cj: cj.update(status={"lastScheduleTime": "2024-09-01T00:00:00Z"}), id="status"
        ),
        pytest.param(
            lambda cj: _pod(cj)["containers"][0]["resources"]["requests"].update(cpu="0.1"),
            id="same quantity",
        ),
        pytest.param(lambda cj: _pod(cj).update(dnsPolicy="Default"), id="field we do not set"),
    ],
)
def test_changes_outside_what_we_render_are_not_drift(edit: Any) -> None:
    assert _edited(edit) is False


def test_removing_an_optional_field_from_the_spec_is_noticed() -> None:
    before = _render(ttlSecondsAfterFinished=60, template={"serviceAccountName": "jobs"})
    after = _render()
    assert desired_differs(before, after) is True
    assert desired_differs(after, after) is False


def test_a_rendered_cronjob_round_tripped_through_yaml_does_not_drift() -> None:
    desired = _render(template={"env": [{"name": "EMPTY", "value": ""}]})
    assert desired_differs(yaml.safe_load(yaml.safe_dump(desired)), desired) is False
