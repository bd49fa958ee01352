"""Run lifecycle on the local cluster: run-now, outcomes in status, and the schedule
semantics users trip on, with the real operator, the real Job and CronJob controllers
and the local node running jobs-runtime against the product API test server."""

from __future__ import annotations

import base64
import contextlib
import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes import client

from tests.cluster.harness import LocalCluster
from tests.integration.conftest import kubectl
from tests.support.operator_process import OperatorProcess
from tests.support.product_api.server import ProductAPI
from tests.support.scheduledjobs import ScheduledJobs, scheduledjob
from tests.support.waiting import wait_for

API_KEY = "sk_lifecycle_0123456789abcdef"

pytestmark = pytest.mark.usefixtures("operator", "node")


@pytest.fixture(scope="module")
def product_api() -> Iterator[ProductAPI]:
    with ProductAPI(api_key=API_KEY, api_version="v2") as api:
        yield api


@pytest.fixture
def secret(core: client.CoreV1Api, namespace: str) -> str:
    """The credential Secret every rendered pod reads (the operator's default name)."""
    put_secret(core, namespace, API_KEY)
    return "shopcron-backend"


def put_secret(core: client.CoreV1Api, namespace: str, key: str) -> None:
    body = client.V1Secret(
        metadata=client.V1ObjectMeta(name="shopcron-backend"),
        data={"apiKey": base64.b64encode(key.encode()).decode()},
    )
    try:
        core.create_namespaced_secret(namespace, body)
    except client.ApiException as exc:
        if exc.status != 409:
            raise
        core.replace_namespaced_secret("shopcron-backend", namespace, body)


def jobs_of(batch: client.BatchV1Api, namespace: str) -> list[dict[str, Any]]:
    listed = json.loads(batch.list_namespaced_job(namespace, _preload_content=False).data)
    items: list[dict[str, Any]] = listed["items"]
    return sorted(items, key=lambda j: j["metadata"]["creationTimestamp"])


def job_names(batch: client.BatchV1Api, namespace: str, owner: str) -> list[str]:
    return [
        j["metadata"]["name"]
        for j in jobs_of(batch, namespace)
        if any(r["name"] == owner for r in j["metadata"].get("ownerReferences") or [])
    ]


def last_run(sjs: ScheduledJobs, name: str, result: str) -> dict[str, Any]:
    def probe() -> dict[str, Any] | None:
        status = (sjs.get(name) or {}).get("status") or {}
        run = status.get("lastRun") or {}
        return status if run.get("result") == result else None

    return wait_for(probe, timeout=90, interval=0.5, what=f"{name}'s last run to be {result}")


def events_for(core: client.CoreV1Api, namespace: str, name: str) -> list[Any]:
    return [
        e
        for e in core.list_namespaced_event(namespace).items
        if e.involved_object.name == name and e.involved_object.kind == "ScheduledJob"
    ]


def test_run_now_runs_once_per_value_and_reports_success(
    cluster: LocalCluster,
    operator: OperatorProcess,
    sjs: ScheduledJobs,
    batch: client.BatchV1Api,
    core: client.CoreV1Api,
    namespace: str,
    product_api: ProductAPI,
    secret: str,
) -> None:
    product_api.add_products(7)
    sjs.create(scheduledjob("publish-products", backend={"url": product_api.url}))
    sjs.wait_reconciled("publish-products", ready=True)
    sjs.patch("publish-products", {"metadata": {"annotations": {"shopcron.io/run-now": "a"}}})

    status = last_run(sjs, "publish-products", "Succeeded")
    run = status["lastRun"]
    assert run["trigger"] == "Manual"
    assert "-manual-" in run["jobName"]
    assert run["summary"].startswith("published=7 failed=0")
    assert status["consecutiveFailures"] == 0
    assert status["lastSuccessfulTime"] == run["completionTime"]
    assert status["lastManualRun"] == "a"
    assert status["activeRuns"] == []
    assert product_api.state()["draft"] == 0

    job = next(j for j in jobs_of(batch, namespace) if j["metadata"]["name"] == run["jobName"])
    owner = job["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["controller"]) == (
        "CronJob",
        "publish-products",
        True,
    )
    reasons = {e.reason: e for e in events_for(core, namespace, "publish-products")}
    assert reasons["RunSucceeded"].type == "Normal"
    assert "published=7" in reasons["RunSucceeded"].message

    table = kubectl(cluster, "get", "sj", "publish-products", f"--namespace={namespace}")
    assert "Succeeded" in table.splitlines()[1]

    # Repeated events and an operator restart do not start the same request again.
    sjs.patch("publish-products", {"metadata": {"labels": {"poke": "1"}}})
    operator.restart()
    sjs.patch("publish-products", {"metadata": {"labels": {"poke": "2"}}})
    time.sleep(3)
    assert len(job_names(batch, namespace, "publish-products")) == 1

    # A new value is a new run.
    product_api.add_products(2)
    sjs.patch("publish-products", {"metadata": {"annotations": {"shopcron.io/run-now": "b"}}})
    wait_for(
        lambda: len(job_names(batch, namespace, "publish-products")) == 2,
        timeout=30,
        what="a second Job for the second run-now value",
    )
    status = last_run(sjs, "publish-products", "Succeeded")
    wait_for(
        lambda: (sjs.get("publish-products") or {})["status"]["lastRun"]["summary"].startswith(
            "published=2"
        ),
        timeout=60,
        what="the second run's summary",
    )


def test_refused_credential_reports_failed_with_a_warning(
    cluster: LocalCluster,
    sjs: ScheduledJobs,
    core: client.CoreV1Api,
    namespace: str,
    product_api: ProductAPI,
) -> None:
    wrong = "sk_wrong_key_do_not_print_me"
    put_secret(core, namespace, wrong)
    sjs.create(scheduledjob("refused", backend={"url": product_api.url}, backoffLimit=0))
    sjs.wait_reconciled("refused", ready=True)
    sjs.patch("refused", {"metadata": {"annotations": {"shopcron.io/run-now": "1"}}})

    status = last_run(sjs, "refused", "Failed")
    assert status["consecutiveFailures"] == 1
    assert "credential refused" in status["lastRun"]["summary"]
    assert wrong not in json.dumps(status)
    warning = wait_for(
        lambda: [e for e in events_for(core, namespace, "refused") if e.reason == "RunFailed"],
        timeout=15,
        what="a RunFailed event",
    )[0]
    assert warning.type == "Warning"
    assert "credential refused" in warning.message
    table = kubectl(cluster, "get", "sj", "refused", f"--namespace={namespace}")
    assert "Failed" in table.splitlines()[1]


def test_kubectl_create_job_from_cronjob_is_reported_as_a_manual_run(
    cluster: LocalCluster,
    sjs: ScheduledJobs,
    namespace: str,
    product_api: ProductAPI,
    secret: str,
) -> None:
    sjs.create(scheduledjob("by-hand", backend={"url": product_api.url}))
    sjs.wait_reconciled("by-hand", ready=True)
    wait_for(
        lambda: "by-hand" in kubectl(cluster, "get", "cronjobs", f"--namespace={namespace}"),
        timeout=15,
        what="the CronJob",
    )
    kubectl(cluster, "create", "job", "--from=cronjob/by-hand", "by-hand-now", "-n", namespace)
    status = last_run(sjs, "by-hand", "Succeeded")
    assert status["lastRun"]["jobName"] == "by-hand-now"
    assert status["lastRun"]["trigger"] == "Manual"


# ------------------------------------------------------------------ schedule semantics
def wait_until_second(low: int, high: int, *, older_than: float, since: float) -> None:
    """Sleep until the wall clock's second is in [low, high] and `older_than` seconds
    have passed since `since` (time.monotonic())."""
    while True:
        second = datetime.now(UTC).second
        if time.monotonic() - since >= older_than and low <= second <= high:
            return
        time.sleep(0.5)


def seconds_to_next_minute() -> float:
    now = datetime.now(UTC)
    return 60 - now.second - now.microsecond / 1e6


@pytest.mark.slow
def test_schedule_edit_and_resume_start_no_catch_up_burst(
    sjs: ScheduledJobs,
    batch: client.BatchV1Api,
    namespace: str,
    product_api: ProductAPI,
    secret: str,
) -> None:
    """Edited: a schedule whose last tick is older than startingDeadlineSeconds starts
    nothing at once. Resumed after two missed ticks: at most one catch-up run."""
    backend = {"url": product_api.url}
    created = time.monotonic()
    sjs.create(
        scheduledjob("edited", schedule="0 0 1 1 *", startingDeadlineSeconds=15, backend=backend)
    )
    sjs.create(scheduledjob("resumed", schedule="* * * * *", suspend=True, backend=backend))
    sjs.wait_reconciled("edited", ready=True)
    sjs.wait_reconciled("resumed", ready=True)
    # Two or more ticks of "* * * * *" pass while suspended; then act mid-minute, so
    # the new schedule's last tick is 25-40 s old: past "edited"'s 15 s deadline,
    # within "resumed"'s default 300 s.
    wait_until_second(25, 40, older_than=125, since=created)
    assert job_names(batch, namespace, "resumed") == []
    sjs.patch("edited", {"spec": {"schedule": "* * * * *"}})
    sjs.patch("resumed", {"spec": {"suspend": False}})
    time.sleep(max(0.0, seconds_to_next_minute() - 3))
    assert job_names(batch, namespace, "edited") == []
    assert len(job_names(batch, namespace, "resumed")) == 1
    # After the minute boundary the new schedule runs as written.
    wait_for(
        lambda: len(job_names(batch, namespace, "edited")) == 1,
        timeout=20,
        what="the edited schedule's first run",
    )


class Blackhole:
    """A port that accepts connections and never answers: a run that hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.sock.close()


@pytest.mark.slow
def test_forbid_blocks_a_second_run_until_the_hung_one_is_deleted(
    sjs: ScheduledJobs, batch: client.BatchV1Api, namespace: str, secret: str
) -> None:
    hole = Blackhole()
    try:
        sjs.create(
            scheduledjob(
                "hangs", schedule="* * * * *", concurrencyPolicy="Forbid", backend={"url": hole.url}
            )
        )
        sjs.wait_reconciled("hangs", ready=True)
        first = wait_for(
            lambda: job_names(batch, namespace, "hangs"),
            timeout=75,
            interval=1,
            what="the first scheduled run",
        )[0]
        status = last_run(sjs, "hangs", "Running")
        assert status["activeRuns"] == [first]
        assert status["lastRun"]["trigger"] == "Schedule"
        # The next tick passes while the first run hangs: Forbid starts nothing.
        time.sleep(seconds_to_next_minute() + 8)
        assert job_names(batch, namespace, "hangs") == [first]
        # Deleting the hung run must not block later runs forever.
        batch.delete_namespaced_job(first, namespace, propagation_policy="Background")
        second = wait_for(
            lambda: [n for n in job_names(batch, namespace, "hangs") if n != first],
            timeout=75,
            interval=1,
            what="a run after the hung one was deleted",
        )
        assert second
        stopped = (sjs.get("hangs") or {})["status"]
        assert first not in stopped["activeRuns"]
    finally:
        hole.close()
        with contextlib.suppress(client.ApiException):
            sjs.patch("hangs", {"spec": {"suspend": True}})
