"""The operator, running for real against the real control plane, keeps one CronJob per
ScheduledJob in line with its spec and reports what will happen."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kubernetes import client

from tests.support.operator_process import OperatorProcess
from tests.support.scheduledjobs import ScheduledJobs, scheduledjob
from tests.support.waiting import wait_for

pytestmark = pytest.mark.usefixtures("operator")


def read_cronjob(batch: client.BatchV1Api, namespace: str, name: str) -> dict[str, Any] | None:
    try:
        cj = batch.read_namespaced_cron_job(name, namespace, _preload_content=False)
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    result: dict[str, Any] = json.loads(cj.data)
    return result


def env_of(cronjob: dict[str, Any]) -> dict[str, Any]:
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def wait_cronjob(
    batch: client.BatchV1Api, namespace: str, name: str, check: Any = lambda cj: True
) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        cj = read_cronjob(batch, namespace, name)
        return cj if cj is not None and check(cj) else None

    return wait_for(probe, timeout=30, what=f"CronJob {name} in {namespace} to match")


def test_create_makes_an_owned_cronjob_and_reports_ready(
    sjs: ScheduledJobs, batch: client.BatchV1Api, namespace: str
) -> None:
    created = sjs.create(
        scheduledjob(
            "publish-products",
            schedule="*/15 9-17 * * MON-FRI",
            timeZone="Europe/Berlin",
            data={"limit": 10},
            backend={"url": "http://medusa.shop:9000", "apiVersion": "v1"},
        )
    )
    sj = sjs.wait_reconciled("publish-products", ready=True)
    status = sj["status"]
    assert status["cronJobName"] == "publish-products"
    assert len(status["nextScheduleTimes"]) >= 3
    assert all(t.endswith(("+01:00", "+02:00")) for t in status["nextScheduleTimes"])

    cj = wait_cronjob(batch, namespace, "publish-products")
    assert cj["spec"]["schedule"] == "*/15 9-17 * * MON-FRI"
    assert cj["spec"]["timeZone"] == "Europe/Berlin"
    assert cj["spec"]["concurrencyPolicy"] == "Forbid"
    owner = cj["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"]) == (
        "ScheduledJob",
        "publish-products",
        created["metadata"]["uid"],
    )
    assert owner["controller"] is True
    pod = cj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    env = env_of(cj)
    assert env["SHOPCRON_JOB_NAME"] == "publish-products"
    assert env["SHOPCRON_HANDLER"] == "publish-draft-products"
    assert json.loads(env["SHOPCRON_DATA"]) == {"limit": 10}
    assert env["SHOPCRON_API_URL"] == "http://medusa.shop:9000"
    assert env["SHOPCRON_API_VERSION"] == "v1"
    assert env["SHOPCRON_API_KEY"] == {
        "secretKeyRef": {"name": "shopcron-backend", "key": "apiKey"}
    }
    # No finalizer: deleting never waits for the operator.
    assert "finalizers" not in sj["metadata"]


def test_cronjob_follows_every_spec_change(
    sjs: ScheduledJobs, batch: client.BatchV1Api, namespace: str
) -> None:
    sjs.create(scheduledjob("follow"))
    sjs.wait_reconciled("follow", ready=True)
    changes: list[tuple[dict[str, Any], Any]] = [
        ({"schedule": "30 4 1 * *"}, lambda cj: cj["spec"]["schedule"] == "30 4 1 * *"),
        (
            {"timeZone": "America/New_York"},
            lambda cj: cj["spec"]["timeZone"] == "America/New_York",
        ),
        ({"suspend": True}, lambda cj: cj["spec"]["suspend"] is True),
        ({"data": {"productIds": ["p1"]}}, lambda cj: "p1" in env_of(cj)["SHOPCRON_DATA"]),
        (
            {"backend": {"url": "https://shop.example:9000", "apiVersion": "v1"}},
            lambda cj: env_of(cj)["SHOPCRON_API_URL"] == "https://shop.example:9000",
        ),
    ]
    for change, check in changes:
        sjs.patch("follow", {"spec": change})
        sjs.wait_reconciled("follow", ready=True)
        wait_cronjob(batch, namespace, "follow", check)
    status = sjs.get("follow")["status"]  # type: ignore[index]
    assert status["nextScheduleTimes"] == []  # suspended: no runs will happen


def test_deleted_cronjob_is_recreated(
    sjs: ScheduledJobs, batch: client.BatchV1Api, namespace: str
) -> None:
    sjs.create(scheduledjob("recreate"))
    sjs.wait_reconciled("recreate", ready=True)
    first = wait_cronjob(batch, namespace, "recreate")
    batch.delete_namespaced_cron_job("recreate", namespace)
    again = wait_cronjob(
        batch,
        namespace,
        "recreate",
        lambda cj: cj["metadata"]["uid"] != first["metadata"]["uid"],
    )
    assert again["spec"]["schedule"] == "0 0 * * *"


def test_edited_cronjob_is_restored(
    sjs: ScheduledJobs, batch: client.BatchV1Api, namespace: str
) -> None:
    sjs.create(scheduledjob("restore", schedule="0 3 * * *"))
    sjs.wait_reconciled("restore", ready=True)
    wait_cronjob(batch, namespace, "restore")
    batch.patch_namespaced_cron_job(
        "restore", namespace, {"spec": {"schedule": "* * * * *", "suspend": True}}
    )
    restored = wait_cronjob(
        batch,
        namespace,
        "restore",
        lambda cj: cj["spec"]["schedule"] == "0 3 * * *" and cj["spec"]["suspend"] is False,
    )
    assert restored["spec"]["timeZone"] == "Etc/UTC"


def test_deleting_the_scheduledjob_removes_its_cronjob(
    sjs: ScheduledJobs, batch: client.BatchV1Api, namespace: str
) -> None:
    sjs.create(scheduledjob("short-lived"))
    sjs.wait_reconciled("short-lived", ready=True)
    wait_cronjob(batch, namespace, "short-lived")
    sjs.delete("short-lived")
    wait_for(
        lambda: read_cronjob(batch, namespace, "short-lived") is None,
        timeout=60,
        what="the garbage collector to delete the CronJob",
    )


def test_same_name_in_two_namespaces_gives_two_independent_cronjobs(
    api_client: client.ApiClient,
    core: client.CoreV1Api,
    batch: client.BatchV1Api,
    namespace: str,
    sjs: ScheduledJobs,
) -> None:
    other_ns = f"{namespace}-b"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=other_ns)))
    try:
        other = ScheduledJobs(api_client, other_ns)
        sjs.create(scheduledjob("twin", schedule="0 1 * * *"))
        other.create(scheduledjob("twin", schedule="0 2 * * *"))
        sjs.wait_reconciled("twin", ready=True)
        other.wait_reconciled("twin", ready=True)
        assert wait_cronjob(batch, namespace, "twin")["spec"]["schedule"] == "0 1 * * *"
        assert wait_cronjob(batch, other_ns, "twin")["spec"]["schedule"] == "0 2 * * *"
        other.delete("twin")
        wait_for(
            lambda: read_cronjob(batch, other_ns, "twin") is None,
            timeout=60,
            what="the second namespace's CronJob to go",
        )
        assert read_cronjob(batch, namespace, "twin") is not None
    finally:
        core.delete_namespace(other_ns)


def test_long_name_gets_a_valid_unique_cronjob_name(
    sjs: ScheduledJobs, batch: client.BatchV1Api, namespace: str
) -> None:
    names = [
        "publish-draft-products-for-the-european-storefront-every-night-a",
        "publish-draft-products-for-the-european-storefront-every-night-b",
    ]
    for name in names:
        sjs.create(scheduledjob(name))
    cj_names = {sjs.wait_reconciled(name, ready=True)["status"]["cronJobName"] for name in names}
    assert len(cj_names) == 2
    for cj_name in cj_names:
        assert len(cj_name) <= 52
        assert wait_cronjob(batch, namespace, cj_name) is not None


def test_invalid_spec_keeps_the_last_good_cronjob(
    sjs: ScheduledJobs, batch: client.BatchV1Api, core: client.CoreV1Api, namespace: str
) -> None:
    sjs.create(scheduledjob("keep", schedule="0 5 * * *"))
    sjs.wait_reconciled("keep", ready=True)
    before = wait_cronjob(batch, namespace, "keep")
    sjs.patch("keep", {"spec": {"schedule": "0 0 31 2 *"}})  # valid shape, never runs
    sj = sjs.wait_reconciled("keep", ready=False)
    cond = sjs.condition("keep")
    assert cond is not None
    assert cond["reason"] == "InvalidSpec"
    assert "spec.schedule" in cond["message"]
    after = read_cronjob(batch, namespace, "keep")
    assert after is not None
    assert after["spec"]["schedule"] == "0 5 * * *"
    assert after["metadata"]["resourceVersion"] == before["metadata"]["resourceVersion"]
    assert sj["metadata"]["generation"] == 2

    def warning_event() -> list[Any]:
        events = core.list_namespaced_event(namespace).items
        return [
            e
            for e in events
            if e.type == "Warning"
            and e.reason == "InvalidSpec"
            and e.involved_object.name == "keep"
        ]

    events = wait_for(warning_event, timeout=15, what="a Warning event for the invalid spec")
    assert "spec.schedule" in events[0].message


def test_operator_restart_keeps_one_cronjob_and_the_status(
    operator: OperatorProcess, sjs: ScheduledJobs, batch: client.BatchV1Api, namespace: str
) -> None:
    sjs.create(scheduledjob("survivor", schedule="15 2 * * *"))
    before = sjs.wait_reconciled("survivor", ready=True)
    cj_before = wait_cronjob(batch, namespace, "survivor")
    operator.restart()
    # The resumed operator reconciles; the CronJob must be the same object, untouched.
    sjs.patch("survivor", {"metadata": {"labels": {"touched": "yes"}}})
    wait_for(
        lambda: "touched" in (sjs.get("survivor") or {}).get("metadata", {}).get("labels", {}),
        timeout=10,
        what="the label",
    )
    after = sjs.wait_reconciled("survivor", ready=True)
    cronjobs = batch.list_namespaced_cron_job(namespace).items
    assert [cj.metadata.name for cj in cronjobs] == ["survivor"]
    cj_after = read_cronjob(batch, namespace, "survivor")
    assert cj_after is not None
    assert cj_after["metadata"]["uid"] == cj_before["metadata"]["uid"]
    assert after["status"]["cronJobName"] == before["status"]["cronJobName"]
    ready_before = next(c for c in before["status"]["conditions"] if c["type"] == "Ready")
    ready_after = next(c for c in after["status"]["conditions"] if c["type"] == "Ready")
    assert ready_after["lastTransitionTime"] == ready_before["lastTransitionTime"]


def test_a_foreign_cronjob_of_the_same_name_is_never_taken_over(
    sjs: ScheduledJobs, batch: client.BatchV1Api, namespace: str
) -> None:
    foreign = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": "taken"},
        "spec": {
            "schedule": "0 4 * * *",
            "jobTemplate": {
                "spec": {
                    "template": {
                        "spec": {
                            "restartPolicy": "Never",
                            "containers": [{"name": "c", "image": "busybox:1"}],
                        }
                    }
                }
            },
        },
    }
    batch.create_namespaced_cron_job(namespace, foreign)
    sjs.create(scheduledjob("taken"))
    sjs.wait_reconciled("taken", ready=False)
    cond = sjs.condition("taken")
    assert cond is not None
    assert cond["reason"] == "CronJobConflict"
    assert "not managed by shopcron" in cond["message"]
    untouched = read_cronjob(batch, namespace, "taken")
    assert untouched is not None
    assert untouched["spec"]["schedule"] == "0 4 * * *"
    assert "ownerReferences" not in untouched["metadata"]
