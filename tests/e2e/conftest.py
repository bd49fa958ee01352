"""Fixtures for the local end-to-end tests: the real operator process, the local node
agent and the product API test server, on the session's local control plane.

Each test gets a fresh namespace and its own operator process watching only that
namespace (`kopf run --namespace=<ns>`; the operator disables kopf's namespace
scanning, so globs are not an option), so it does not compete with an operator the
integration tests may run on the same cluster, and its log is the test's alone.
"""

from __future__ import annotations

import contextlib
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.cluster.harness import REPO_ROOT, LocalCluster
from tests.cluster.node import LocalNode
from tests.support.operator_process import OperatorProcess
from tests.support.product_api.server import ProductAPI
from tests.support.waiting import wait_for

KUBECTL = Path(sys.executable).with_name("kubectl")
API_KEY = f"sk_e2e_{secrets.token_hex(8)}"


class Kubectl:
    """kubectl against the test cluster, run from the repository root (as users do)."""

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig

    def __call__(self, *args: str, stdin: str | None = None) -> str:
        result = subprocess.run(
            [str(KUBECTL), f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
            cwd=REPO_ROOT,
        )
        if result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{result.stderr}")
        return result.stdout


@pytest.fixture(scope="session")
def kubectl(cluster: LocalCluster) -> Kubectl:
    return Kubectl(cluster.kubeconfig)


@pytest.fixture(scope="session")
def crd(kubectl: Kubectl, api_client: client.ApiClient) -> str:
    kubectl("apply", "-k", "crds")
    ext = client.ApiextensionsV1Api(api_client)

    def established() -> bool:
        crd = ext.read_custom_resource_definition("scheduledjobs.shopcron.io")
        return any(
            c.type == "Established" and c.status == "True" for c in crd.status.conditions or []
        )

    wait_for(established, timeout=30, what="the ScheduledJob CRD to be established")
    return "scheduledjobs.shopcron.io"


@pytest.fixture(scope="module")
def product_api() -> Iterator[ProductAPI]:
    """The product API test server; each test adds the drafts it needs."""
    with ProductAPI(api_key=API_KEY, api_version="v2") as api:
        yield api


@pytest.fixture
def e2e_namespace(core: client.CoreV1Api) -> Iterator[str]:
    """A fresh namespace the e2e operator watches (its default ServiceAccount exists)."""
    name = f"e2e-{secrets.token_hex(4)}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))

    def default_sa() -> bool:
        try:
            core.read_namespaced_service_account("default", name)
        except client.ApiException as exc:
            if exc.status == 404:
                return False
            raise
        return True

    wait_for(default_sa, timeout=30, what=f"ServiceAccount default in {name}")
    yield name
    with contextlib.suppress(client.ApiException):
        core.delete_namespace(name)


@pytest.fixture
def operator(
    cluster: LocalCluster,
    node: LocalNode,
    crd: str,
    product_api: ProductAPI,
    e2e_namespace: str,
    tmp_path: Path,
) -> Iterator[OperatorProcess]:
    """The real operator, its default backend URL pointed at the test server (like `make demo`)."""
    process = OperatorProcess(
        kubeconfig=cluster.kubeconfig,
        log_path=tmp_path / "operator.log",
        env={"SHOPCRON_DEFAULT_API_URL": product_api.url},
        namespaces=(e2e_namespace,),
    )
    process.start()
    yield process
    process.stop()
