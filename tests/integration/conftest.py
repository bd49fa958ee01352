"""Fixtures for tests that need shopcron's CRD and a running operator."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.cluster.harness import REPO_ROOT, LocalCluster
from tests.support.operator_process import OperatorProcess
from tests.support.scheduledjobs import ScheduledJobs
from tests.support.waiting import wait_for

KUBECTL = str(Path(sys.executable).with_name("kubectl"))


def kubectl(cluster: LocalCluster, *args: str, input_: str | None = None) -> str:
    result = subprocess.run(
        [KUBECTL, f"--kubeconfig={cluster.kubeconfig}", *args],
        capture_output=True,
        text=True,
        input=input_,
        check=False,
    )
    if result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


@pytest.fixture(scope="session")
def crd(cluster: LocalCluster, api_client: client.ApiClient) -> str:
    """shopcron's CRD, installed the way users do it (`kubectl apply -k crds`)."""
    kubectl(cluster, "apply", "-k", str(REPO_ROOT / "crds"))
    ext = client.ApiextensionsV1Api(api_client)

    def established() -> bool:
        crd = ext.read_custom_resource_definition("scheduledjobs.shopcron.io")
        return any(
            c.type == "Established" and c.status == "True" for c in crd.status.conditions or []
        )

    wait_for(established, timeout=30, what="the ScheduledJob CRD to be established")
    return "scheduledjobs.shopcron.io"


@pytest.fixture(scope="session")
def operator(
    cluster: LocalCluster, crd: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    log = tmp_path_factory.mktemp("operator") / "operator.log"
    process = OperatorProcess(
        kubeconfig=cluster.kubeconfig,
        log_path=log,
        env={
            "SHOPCRON_DEFAULT_API_URL": "http://product-api.test.svc:9000",
            "SHOPCRON_PREVIEW_REFRESH_SECONDS": "2",
        },
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture
def sjs(api_client: client.ApiClient, namespace: str, crd: str) -> ScheduledJobs:
    return ScheduledJobs(api_client, namespace)
