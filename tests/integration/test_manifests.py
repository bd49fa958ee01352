"""Every kustomization users apply is accepted by a real API server (`kubectl apply
--dry-run=server`), without warnings; pods (the operator's, the demo's and the job
pods the operator renders) pass Pod Security "restricted".

The kind path cannot run here (no Docker engine); this is what makes its manifests
correct by construction.
"""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import pytest
from kubernetes import client

from tests.cluster.harness import REPO_ROOT, LocalCluster
from tests.integration.conftest import kubectl
from tests.support.kubectl import KUBECTL
from tests.support.scheduledjobs import ScheduledJobs

pytestmark = pytest.mark.cluster

MANIFESTS = REPO_ROOT / "manifests"
DEMO_NAMESPACE = "shop"
RESTRICTED = {
    "pod-security.kubernetes.io/enforce": "restricted",
    "pod-security.kubernetes.io/warn": "restricted",
}


def dry_run(cluster: LocalCluster, *args: str, input_: str | None = None) -> str:
    """`kubectl apply --dry-run=server …`; fails on an error or any warning; returns stdout."""
    result = subprocess.run(
        [KUBECTL, f"--kubeconfig={cluster.kubeconfig}", *args, "--dry-run=server"],
        capture_output=True,
        text=True,
        input=input_,
        check=False,
        cwd=REPO_ROOT,
    )
    assert result.returncode == 0, f"kubectl {' '.join(args)}:\n{result.stderr}"
    assert "Warning:" not in result.stderr, f"kubectl {' '.join(args)}:\n{result.stderr}"
    return result.stdout


def rendered(path: str) -> list[dict[str, Any]]:
    """`kubectl kustomize <path>` as objects."""
    import yaml  # the operator extra; imported here to keep collection light

    out = subprocess.run(
        [KUBECTL, "kustomize", str(REPO_ROOT / path)], capture_output=True, text=True, check=True
    ).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


@pytest.fixture(scope="module")
def namespaces(cluster: LocalCluster, crd: str, core: client.CoreV1Api) -> Iterator[None]:
    """The namespaces the kustomizations put objects in exist for real (a server-side dry
    run of a namespaced object needs its namespace); the demo's is removed afterwards."""
    kubectl(cluster, "apply", "-k", str(MANIFESTS / "namespace"))
    demo_existed = True
    try:
        core.read_namespace(DEMO_NAMESPACE)
    except client.ApiException as exc:
        if exc.status != 404:
            raise
        demo_existed = False
    kubectl(cluster, "apply", "-f", str(MANIFESTS / "demo" / "namespace.yaml"))
    yield
    if not demo_existed:
        with contextlib.suppress(client.ApiException):
            core.delete_namespace(DEMO_NAMESPACE)


@pytest.mark.usefixtures("namespaces")
@pytest.mark.parametrize(
    "kustomization", ["default", "overlays/kind", "overlays/local", "demo", "rbac", "namespace"]
)
def test_kustomization_is_accepted_by_the_api_server(
    cluster: LocalCluster, kustomization: str
) -> None:
    out = dry_run(cluster, "apply", "-k", f"manifests/{kustomization}")
    expected = rendered(f"manifests/{kustomization}")
    # One line per object ("<kind>/<name> created (server dry run)" or "... unchanged").
    assert len(out.strip().splitlines()) == len(expected), out


@pytest.mark.usefixtures("namespaces")
@pytest.mark.parametrize("kustomization", ["samples", "job-serviceaccount"])
def test_per_namespace_kustomization_is_accepted_in_a_users_namespace(
    cluster: LocalCluster, namespace: str, kustomization: str
) -> None:
    dry_run(cluster, "apply", "-n", namespace, "-k", f"manifests/{kustomization}")


@pytest.mark.usefixtures("namespaces")
def test_the_kind_demo_objects_made_by_the_script_are_accepted(cluster: LocalCluster) -> None:
    """scripts/kind.sh makes the product API's code ConfigMap and the two Secrets."""
    configmap = kubectl(
        cluster,
        "create",
        "configmap",
        "product-api-code",
        "-n",
        DEMO_NAMESPACE,
        *script_configmap_sources(),
        "--dry-run=client",
        "-o=json",
    )
    (deployment,) = [o for o in rendered("manifests/demo") if o["kind"] == "Deployment"]
    (volume,) = deployment["spec"]["template"]["spec"]["volumes"]
    items = {item["key"] for item in volume["configMap"]["items"]}
    assert set(json.loads(configmap)["data"]) == items
    dry_run(cluster, "apply", "-f", "-", input_=configmap)
    for name in ("product-api-key", "shopcron-backend"):
        secret = kubectl(
            cluster,
            "create",
            "secret",
            "generic",
            name,
            "-n",
            DEMO_NAMESPACE,
            "--from-literal=apiKey=sk_demo_x",
            "--dry-run=client",
            "-o=json",
        )
        dry_run(cluster, "apply", "-f", "-", input_=secret)


def script_configmap_sources() -> list[str]:
    """The `--from-file` arguments scripts/kind.sh gives `kubectl create configmap`."""
    script = (REPO_ROOT / "scripts" / "kind.sh").read_text()
    block = script[script.index("create configmap product-api-code") :]
    block = block[: block.index("--dry-run")]
    return re.findall(r"--from-file=\S+", block)


def test_operator_pod_is_hardened() -> None:
    """What Pod Security "restricted" does not check, but the issue asks for."""
    (deployment,) = [o for o in rendered("manifests/default") if o["kind"] == "Deployment"]
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    pod = deployment["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["runAsUser"] == pod["securityContext"]["runAsUser"] == 65532
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "healthz"}
    assert {p["name"]: p["containerPort"] for p in container["ports"]} == {"healthz": 8080}
    assert set(container["resources"]) == {"requests", "limits"}
    assert {v["mountPath"] for v in container["volumeMounts"]} == {"/tmp"}
    assert pod["serviceAccountName"] == "shopcron-operator"
    # kopf falls back to the passwd entry of its UID for its identity without POD_ID,
    # and crashes at start-up when the UID has none.
    env = {e["name"]: e for e in container["env"]}
    assert env["POD_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
    assert env["HOME"]["value"] == "/tmp"


@pytest.mark.usefixtures("operator")
def test_rendered_job_pods_pass_pod_security_restricted(
    cluster: LocalCluster, core: client.CoreV1Api, sjs: ScheduledJobs, namespace: str
) -> None:
    """The sample's CronJob, as the operator renders it, starts pods that a namespace
    enforcing "restricted" admits (the kind demo runs in such a namespace)."""
    core.patch_namespace(namespace, {"metadata": {"labels": RESTRICTED}})
    kubectl(cluster, "apply", "-n", namespace, "-k", str(MANIFESTS / "samples"))
    sj = sjs.wait_reconciled("publish-products", ready=True)
    # The Job is checked against "restricted" (warnings), a pod from its template is
    # checked by enforcement (refused if it violates).
    job = dry_run(
        cluster,
        "create",
        "job",
        "-n",
        namespace,
        f"--from=cronjob/{sj['status']['cronJobName']}",
        "restricted-check",
        "-o=json",
    )
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "restricted-check"},
        "spec": json.loads(job)["spec"]["template"]["spec"],
    }
    dry_run(cluster, "create", "-n", namespace, "-f", "-", input_=json.dumps(pod))
