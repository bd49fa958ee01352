"""The main job, end to end on the local control plane (what `make demo` shows):

ScheduledJob (the sample) -> operator -> CronJob -> `kubectl create job --from=cronjob`
-> Job controller -> Pod -> local node -> jobs-runtime -> product API test server.

Runs in `make test`: real kube-apiserver and controllers, the real operator process,
the real runtime; only the kubelet is replaced by the local node agent.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any, TypeVar

import pytest
import yaml
from kubernetes import client

from tests.cluster.harness import REPO_ROOT, tail
from tests.cluster.node import LocalNode
from tests.e2e.conftest import API_KEY
from tests.support.kubectl import Kubectl
from tests.support.operator_process import OperatorProcess
from tests.support.product_api.server import ProductAPI
from tests.support.waiting import WaitTimeout, wait_for

pytestmark = pytest.mark.cluster

SAMPLE = REPO_ROOT / "manifests" / "samples" / "publish-products.yaml"
NAME = "publish-products"
T = TypeVar("T")


class Run:
    """One test's view of the system, with the logs it shows when something times out."""

    def __init__(
        self,
        namespace: str,
        kubectl: Kubectl,
        core: client.CoreV1Api,
        batch: client.BatchV1Api,
        api: client.ApiClient,
        operator: OperatorProcess,
        node: LocalNode,
    ) -> None:
        self.namespace = namespace
        self.kubectl = kubectl
        self.core = core
        self.batch = batch
        self.custom = client.CustomObjectsApi(api)
        self.operator = operator
        self.node = node

    def wait(self, probe: Callable[[], T | None], *, timeout: float, what: str) -> T:
        try:
            return wait_for(probe, timeout=timeout, interval=0.3, what=what)
        except WaitTimeout as exc:
            raise AssertionError(
                f"{exc}\n--- operator log:\n{tail(self.operator.log_path, 40)}"
                f"\n--- node agent log:\n{tail(self.node.agent_log, 40)}"
            ) from None

    def secret(self, key: str) -> None:
        self.core.create_namespaced_secret(
            self.namespace,
            client.V1Secret(
                metadata=client.V1ObjectMeta(name="shopcron-backend"), string_data={"apiKey": key}
            ),
        )

    def cronjob_url(self, expected: str) -> bool:
        try:
            cronjob = self.batch.read_namespaced_cron_job(NAME, self.namespace)
        except client.ApiException as exc:
            if exc.status == 404:
                return False
            raise
        env = cronjob.spec.job_template.spec.template.spec.containers[0].env or []
        return any(v.name == "SHOPCRON_API_URL" and v.value == expected for v in env)

    def job_result(self, job: str) -> str | None:
        conditions = self.batch.read_namespaced_job_status(job, self.namespace).status.conditions
        for cond in conditions or []:
            if cond.type in ("Complete", "Failed") and cond.status == "True":
                return str(cond.type)
        return None

    def pods(self, job: str) -> list[Any]:
        pods = self.core.list_namespaced_pod(self.namespace, label_selector=f"job-name={job}").items
        return sorted(pods, key=lambda p: p.metadata.creation_timestamp)

    def last_run(self) -> dict[str, Any]:
        obj = self.custom.get_namespaced_custom_object(
            "shopcron.io", "v1alpha1", self.namespace, "scheduledjobs", NAME
        )
        return dict((obj.get("status") or {}).get("lastRun") or {})

    def start_run(self, job: str, url: str) -> None:
        """Wait for the operator's CronJob, then start a run as a user would."""
        self.wait(lambda: self.cronjob_url(url), timeout=60, what=f"CronJob {NAME} for {url}")
        self.kubectl("create", "job", f"--from=cronjob/{NAME}", job, "-n", self.namespace)


@pytest.fixture
def run(
    e2e_namespace: str,
    kubectl: Kubectl,
    core: client.CoreV1Api,
    batch: client.BatchV1Api,
    api_client: client.ApiClient,
    operator: OperatorProcess,
    node: LocalNode,
) -> Run:
    return Run(e2e_namespace, kubectl, core, batch, api_client, operator, node)


def sample(**spec: Any) -> str:
    """The sample ScheduledJob, with `spec` fields changed."""
    body: dict[str, Any] = yaml.safe_load(SAMPLE.read_text())
    body["spec"].update(spec)
    return yaml.safe_dump(body)


def test_sample_scheduledjob_publishes_every_draft(run: Run, product_api: ProductAPI) -> None:
    drafts = product_api.add_products(25, "draft")
    run.secret(API_KEY)
    # Exactly the user's command on the sample (its backend URL is the operator's default).
    run.kubectl("apply", "-n", run.namespace, "-k", "manifests/samples")

    run.start_run("publish-now", product_api.url)
    result = run.wait(lambda: run.job_result("publish-now"), timeout=60, what="the run to finish")

    assert result == "Complete"
    assert set(product_api.ids("published")) >= set(drafts)
    assert not set(product_api.ids("draft")) & set(drafts)
    (pod,) = run.pods("publish-now")
    assert pod.spec.node_name == run.node.name
    log = run.node.pod_log(run.namespace, pod.metadata.name).read_text()
    assert "Processing scheduled job: publish-products" in log
    assert "Finished scheduled job: publish-products (published=25 failed=0 skipped=0" in log
    terminated = pod.status.container_statuses[0].state.terminated
    assert terminated.exit_code == 0
    assert terminated.message.startswith("published=25 failed=0 skipped=0")
    # The operator reports the run on the ScheduledJob (DESIGN §3 status contract).
    last = run.wait(
        lambda: run.last_run() if run.last_run().get("result") == "Succeeded" else None,
        timeout=30,
        what="status.lastRun.result Succeeded",
    )
    assert last["jobName"] == "publish-now"


def test_wrong_credential_fails_the_job_after_its_retries(
    run: Run, product_api: ProductAPI
) -> None:
    drafts = product_api.add_products(5, "draft")
    wrong = f"sk_wrong_{secrets.token_hex(8)}"
    run.secret(wrong)
    run.kubectl("apply", "-n", run.namespace, "-f", "-", stdin=sample(backoffLimit=1))

    run.start_run("publish-denied", product_api.url)
    # backoffLimit 1: two pods fail (the Job controller waits ~10 s before the retry).
    result = run.wait(lambda: run.job_result("publish-denied"), timeout=90, what="the Job to fail")

    assert result == "Failed"
    status = run.batch.read_namespaced_job_status("publish-denied", run.namespace).status
    assert any(c.reason == "BackoffLimitExceeded" for c in status.conditions or [])
    pods = run.pods("publish-denied")
    assert len(pods) == 2
    for pod in pods:
        assert pod.status.phase == "Failed"
        terminated = pod.status.container_statuses[0].state.terminated
        assert terminated.exit_code == 3  # the runtime's "API refused/unreachable" code
        assert "credential refused" in terminated.message
        log = run.node.pod_log(run.namespace, pod.metadata.name).read_text()
        assert "refused the credential (HTTP 401" in log
        assert "Check SHOPCRON_API_KEY" in log
        for text in (log, terminated.message):
            assert wrong not in text
    # Nothing was published, and the credential is in no log on this machine.
    assert set(product_api.ids("draft")) >= set(drafts)
    assert wrong not in run.node.agent_log.read_text()
    assert wrong not in run.operator.log_path.read_text()
    last = run.wait(
        lambda: run.last_run() if run.last_run().get("result") == "Failed" else None,
        timeout=30,
        what="status.lastRun.result Failed",
    )
    assert last["jobName"] == "publish-denied"
