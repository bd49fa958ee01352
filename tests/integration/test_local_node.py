"""The local node agent on the real control plane: the Job controller sees runs finish.

Pods use the test image (mapped to the venv's `python`, see tests/conftest.py) with a
short script as args, or shopcron's runtime image (mapped to `jobs-runtime`).
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from kubernetes import client

from tests.cluster.harness import LocalCluster
from tests.cluster.node import TEST_IMAGE, LocalNode
from tests.support.product_api.server import ProductAPI
from tests.support.waiting import wait_for

pytestmark = pytest.mark.cluster

MANAGED = {"app.kubernetes.io/managed-by": "shopcron"}
WRITE_MESSAGE = (
    "import os\n"
    "def message(text):\n"
    "    with open(os.environ['SHOPCRON_TERMINATION_MESSAGE_PATH'], 'w') as f:\n"
    "        f.write(text)\n"
)


def container(script: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "main",
        "image": TEST_IMAGE,
        "command": ["python", "-c", WRITE_MESSAGE + script],
        **extra,
    }


def pod_spec(main: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"restartPolicy": "Never", "containers": [main], **extra}


def job(name: str, spec: dict[str, Any], *, backoff_limit: int = 0, **extra: Any) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": backoff_limit,
            "template": {"metadata": {"labels": MANAGED}, "spec": spec},
            **extra,
        },
    }


def pod(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": MANAGED},
        "spec": spec,
    }


def job_condition(batch: client.BatchV1Api, namespace: str, name: str) -> str | None:
    conditions = batch.read_namespaced_job_status(name, namespace).status.conditions or []
    for cond in conditions:
        if cond.type in ("Complete", "Failed") and cond.status == "True":
            return str(cond.type)
    return None


def wait_job(batch: client.BatchV1Api, namespace: str, name: str, timeout: float = 60) -> str:
    return wait_for(
        lambda: job_condition(batch, namespace, name),
        timeout=timeout,
        what=f"Job {name} to finish",
    )


def job_pods(core: client.CoreV1Api, namespace: str, name: str) -> list[Any]:
    return list(core.list_namespaced_pod(namespace, label_selector=f"job-name={name}").items)


def terminated(p: Any) -> Any:
    return p.status.container_statuses[0].state.terminated


def pod_phase(core: client.CoreV1Api, namespace: str, name: str) -> str | None:
    try:
        return str(core.read_namespaced_pod(name, namespace).status.phase)
    except client.ApiException as exc:
        if exc.status == 404:
            return "Gone"
        raise


def pod_gone(core: client.CoreV1Api, namespace: str, name: str) -> bool:
    return pod_phase(core, namespace, name) == "Gone"


def event_reasons(core: client.CoreV1Api, namespace: str, pod_name: str) -> set[str]:
    events = core.list_namespaced_event(namespace, field_selector=f"involvedObject.name={pod_name}")
    return {e.reason for e in events.items}


# ---------------------------------------------------------------------- tests
def test_job_runs_on_the_local_node_and_completes(
    node: LocalNode,
    cluster: LocalCluster,
    batch: client.BatchV1Api,
    core: client.CoreV1Api,
    namespace: str,
) -> None:
    script = "print('hello from', os.environ['HOSTNAME'], flush=True)\nmessage('all good')\n"
    batch.create_namespaced_job(namespace, job("hello", pod_spec(container(script))))

    assert wait_job(batch, namespace, "hello") == "Complete"
    (done,) = job_pods(core, namespace, "hello")
    name = done.metadata.name
    assert done.spec.node_name == node.name
    assert done.status.phase == "Succeeded"
    state = terminated(done)
    assert (state.exit_code, state.reason, state.message) == (0, "Completed", "all good")
    assert state.started_at is not None
    assert state.finished_at is not None
    assert node.pod_log(namespace, name).read_text() == f"hello from {name}\n"
    wait_for(
        lambda: {"Scheduled", "Started"} <= event_reasons(core, namespace, name),
        timeout=10,
        what="Scheduled and Started events",
    )
    # kubectl logs reaches the node's log endpoint through the API server.
    logs = core.read_namespaced_pod_log(name, namespace)
    assert logs == f"hello from {name}\n"
    assert batch.read_namespaced_job(name="hello", namespace=namespace).status.succeeded == 1


def test_failing_job_fails_after_backoff_limit_with_log_tail_as_message(
    node: LocalNode, batch: client.BatchV1Api, core: client.CoreV1Api, namespace: str
) -> None:
    script = "import sys\nprint('cannot reach the API', file=sys.stderr)\nsys.exit(3)\n"
    main = container(script, terminationMessagePolicy="FallbackToLogsOnError")
    batch.create_namespaced_job(namespace, job("fails", pod_spec(main), backoff_limit=1))

    # backoffLimit 1: two pods fail (the controller waits ~10 s before the retry).
    assert wait_job(batch, namespace, "fails", timeout=90) == "Failed"
    pods = job_pods(core, namespace, "fails")
    assert len(pods) == 2
    for failed in pods:
        assert failed.status.phase == "Failed"
        state = terminated(failed)
        assert (state.exit_code, state.reason) == (3, "Error")
        assert state.message == "cannot reach the API"
    status = batch.read_namespaced_job_status("fails", namespace).status
    assert status.failed == 2
    assert any(c.reason == "BackoffLimitExceeded" for c in status.conditions)


def test_env_from_secret_configmap_and_fields_waits_for_the_secret(
    node: LocalNode, core: client.CoreV1Api, namespace: str
) -> None:
    core.create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="settings"),
            data={"url": "http://api.local", "LEVEL": "debug"},
        ),
    )
    script = (
        "import json\n"
        "keys = ['API_KEY', 'API_URL', 'POD', 'NS', 'GREETING', 'CFG_LEVEL', 'LITERAL', 'APP']\n"
        "message(json.dumps({k: os.environ.get(k) for k in keys}))\n"
    )
    env = [
        {"name": "API_KEY", "valueFrom": {"secretKeyRef": {"name": "creds", "key": "apiKey"}}},
        {"name": "API_URL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "url"}}},
        {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {
            "name": "APP",
            "valueFrom": {
                "fieldRef": {"fieldPath": "metadata.labels['app.kubernetes.io/managed-by']"}
            },
        },
        {"name": "GREETING", "value": "hi $(POD) in $(NS) at $(API_URL)"},
        {"name": "LITERAL", "value": "$$(POD) $(UNDEFINED)"},
    ]
    env_from = [{"prefix": "CFG_", "configMapRef": {"name": "settings"}}]
    core.create_namespaced_pod(
        namespace, pod("env", pod_spec(container(script, env=env, envFrom=env_from)))
    )

    # The Secret does not exist yet: like the kubelet, the node waits and retries.
    def config_error() -> str | None:
        statuses = core.read_namespaced_pod("env", namespace).status.container_statuses or []
        waiting = statuses[0].state.waiting if statuses else None
        return (
            waiting.message if waiting and waiting.reason == "CreateContainerConfigError" else None
        )

    message = wait_for(config_error, timeout=30, what="CreateContainerConfigError")
    assert message == 'secret "creds" not found (env API_KEY)'
    assert core.read_namespaced_pod("env", namespace).status.phase == "Pending"

    core.create_namespaced_secret(
        namespace,
        client.V1Secret(metadata=client.V1ObjectMeta(name="creds"), string_data={"apiKey": "sk_x"}),
    )
    wait_for(
        lambda: pod_phase(core, namespace, "env") == "Succeeded",
        timeout=30,
        what="pod env to succeed",
    )
    state = terminated(core.read_namespaced_pod("env", namespace))
    assert json.loads(state.message) == {
        "API_KEY": "sk_x",
        "API_URL": "http://api.local",
        "POD": "env",
        "NS": namespace,
        "GREETING": f"hi env in {namespace} at http://api.local",
        "CFG_LEVEL": "debug",
        "LITERAL": "$(POD) $(UNDEFINED)",
        "APP": "shopcron",
    }


@pytest.mark.parametrize(
    ("handles_sigterm", "expected_line"),
    [(True, "got SIGTERM"), (False, "ignoring SIGTERM")],
    ids=["exits-on-sigterm", "killed-after-grace"],
)
def test_pod_deletion_stops_the_process(
    node: LocalNode,
    core: client.CoreV1Api,
    namespace: str,
    handles_sigterm: bool,
    expected_line: str,
) -> None:
    script = (
        "import signal, sys, time\n"
        "def on_term(*_):\n"
        f"    print({expected_line!r}, flush=True)\n"
        f"    if {handles_sigterm}:\n"
        "        sys.exit(0)\n"
        "signal.signal(signal.SIGTERM, on_term)\n"
        "print('working', flush=True)\n"
        "time.sleep(120)\n"
    )
    spec = pod_spec(container(script), terminationGracePeriodSeconds=3)
    core.create_namespaced_pod(namespace, pod("worker", spec))
    log_path = node.pod_log(namespace, "worker")
    wait_for(
        lambda: log_path.exists() and "working" in log_path.read_text(),
        timeout=30,
        what="the process to start",
    )

    began = time.monotonic()
    core.delete_namespaced_pod("worker", namespace)
    wait_for(lambda: pod_gone(core, namespace, "worker"), timeout=30, what="the pod to be removed")
    took = time.monotonic() - began

    assert expected_line in log_path.read_text()
    if handles_sigterm:
        assert took < 3
    else:
        assert 3 <= took < 10  # SIGKILL after terminationGracePeriodSeconds


def test_job_active_deadline_stops_the_process(
    node: LocalNode, batch: client.BatchV1Api, core: client.CoreV1Api, namespace: str
) -> None:
    script = "import time\nprint('long task', flush=True)\ntime.sleep(120)\n"
    batch.create_namespaced_job(
        namespace, job("slow", pod_spec(container(script)), activeDeadlineSeconds=3)
    )
    assert wait_job(batch, namespace, "slow", timeout=60) == "Failed"
    status = batch.read_namespaced_job_status("slow", namespace).status
    assert any(c.reason == "DeadlineExceeded" for c in status.conditions)
    wait_for(
        lambda: not job_pods(core, namespace, "slow"), timeout=30, what="the pod to be removed"
    )


def test_unmappable_image_stays_pending_and_unselected_pods_are_left_alone(
    node: LocalNode, core: client.CoreV1Api, namespace: str
) -> None:
    busybox = {"name": "main", "image": "busybox:1", "command": ["true"]}
    core.create_namespaced_pod(namespace, pod("unmapped", pod_spec(busybox)))
    unlabelled = pod("foreign", pod_spec({**busybox, "image": TEST_IMAGE}))
    del unlabelled["metadata"]["labels"]
    core.create_namespaced_pod(namespace, unlabelled)

    def unschedulable() -> str | None:
        for cond in core.read_namespaced_pod("unmapped", namespace).status.conditions or []:
            if cond.type == "PodScheduled" and cond.reason == "Unschedulable":
                return str(cond.message)
        return None

    message = wait_for(unschedulable, timeout=30, what="the pod to be reported unschedulable")
    assert "cannot run image 'busybox:1'" in message
    wait_for(
        lambda: "FailedScheduling" in event_reasons(core, namespace, "unmapped"),
        timeout=10,
        what="a FailedScheduling event",
    )
    time.sleep(1)
    foreign = core.read_namespaced_pod("foreign", namespace)
    assert foreign.spec.node_name is None
    assert foreign.status.phase == "Pending"
    assert not foreign.status.conditions


def test_missing_program_fails_with_start_error(
    node: LocalNode, core: client.CoreV1Api, namespace: str
) -> None:
    main = {"name": "main", "image": TEST_IMAGE, "command": ["no-such-program"]}
    core.create_namespaced_pod(namespace, pod("broken", pod_spec(main)))
    wait_for(lambda: pod_phase(core, namespace, "broken") == "Failed", timeout=30, what="Failed")
    state = terminated(core.read_namespaced_pod("broken", namespace))
    assert (state.exit_code, state.reason) == (128, "StartError")
    assert 'exec: "no-such-program": executable file not found' in state.message


def test_runtime_image_runs_jobs_runtime_against_the_product_api(
    node: LocalNode, batch: client.BatchV1Api, core: client.CoreV1Api, namespace: str
) -> None:
    key = "sk_node_test"
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(metadata=client.V1ObjectMeta(name="backend"), string_data={"apiKey": key}),
    )
    with ProductAPI(drafts=7, api_key=key) as api:
        runtime = {
            "name": "jobs-runtime",
            "image": "shopcron/jobs-runtime:dev",
            "command": ["jobs-runtime"],
            "env": [
                {"name": "SHOPCRON_JOB_NAME", "value": "publish-products"},
                {"name": "SHOPCRON_HANDLER", "value": "publish-draft-products"},
                {"name": "SHOPCRON_API_URL", "value": api.url},
                {"name": "SHOPCRON_API_VERSION", "value": "v2"},
                {
                    "name": "SHOPCRON_API_KEY",
                    "valueFrom": {"secretKeyRef": {"name": "backend", "key": "apiKey"}},
                },
            ],
        }
        batch.create_namespaced_job(namespace, job("publish", pod_spec(runtime)))
        assert wait_job(batch, namespace, "publish") == "Complete"
        assert api.state()["draft"] == 0
        assert api.state()["published"] == 7
    (done,) = job_pods(core, namespace, "publish")
    log = node.pod_log(namespace, done.metadata.name).read_text()
    assert "Processing scheduled job: publish-products" in log
    assert "Finished scheduled job: publish-products (published=7 failed=0" in log
    assert terminated(done).message.startswith("published=7 failed=0")
