"""Fixtures shared by integration and e2e tests: one real control plane per session.

The cluster starts only when a test asks for it, so `pytest tests/unit` needs no
Go build. Each test gets a fresh namespace; the namespace is deleted afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config

from tests.cluster.harness import LocalCluster, running_cluster
from tests.cluster.node import TEST_IMAGE, LocalNode
from tests.support.kubectl import Kubectl
from tests.support.namespaces import fresh_namespace
from tests.support.operator_identity import install_as_operator
from tests.support.waiting import wait_for


@pytest.fixture(scope="session")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    directory: Path = tmp_path_factory.mktemp("cluster")
    with running_cluster(directory) as local:
        yield local


@pytest.fixture(autouse=True)
def _cluster_still_alive(request: pytest.FixtureRequest) -> Iterator[None]:
    """A crashed component fails the test that noticed it, with the component's log."""
    yield
    if "cluster" in request.fixturenames:
        local: LocalCluster = request.getfixturevalue("cluster")
        local.check_alive()


@pytest.fixture(scope="session")
def api_client(cluster: LocalCluster) -> Iterator[client.ApiClient]:
    api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
    yield api
    api.close()


@pytest.fixture(scope="session")
def core(api_client: client.ApiClient) -> client.CoreV1Api:
    return client.CoreV1Api(api_client)


@pytest.fixture(scope="session")
def batch(api_client: client.ApiClient) -> client.BatchV1Api:
    return client.BatchV1Api(api_client)


@pytest.fixture
def namespace(core: client.CoreV1Api) -> Iterator[str]:
    """A fresh namespace whose default ServiceAccount exists (pods need it)."""
    with fresh_namespace(core, "t") as name:
        yield name


@pytest.fixture(scope="session")
def kubectl(cluster: LocalCluster) -> Kubectl:
    return Kubectl(cluster.kubeconfig)


@pytest.fixture(scope="session")
def crd(kubectl: Kubectl, api_client: client.ApiClient) -> str:
    """shopcron's CRD, installed the way users do it (`kubectl apply -k crds`)."""
    kubectl("apply", "-k", "crds")
    ext = client.ApiextensionsV1Api(api_client)

    def established() -> bool:
        crd = ext.read_custom_resource_definition("scheduledjobs.shopcron.io")
        return any(
            c.type == "Established" and c.status == "True" for c in crd.status.conditions or []
        )

    wait_for(established, timeout=30, what="the ScheduledJob CRD to be established")
    return "scheduledjobs.shopcron.io"


@pytest.fixture(scope="session")
def operator_kubeconfig(
    cluster: LocalCluster, crd: str, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A kubeconfig for the operator's own ServiceAccount (the manifests' rights), not admin."""
    return install_as_operator(cluster, tmp_path_factory.mktemp("operator-identity") / "kubeconfig")


# ---------------------------------------------------------------- local node agent
@pytest.fixture(scope="session")
def node(cluster: LocalCluster) -> Iterator[LocalNode]:
    """The local node agent (tests/cluster/node.py) on the session cluster.

    It runs pods labelled `app.kubernetes.io/managed-by=shopcron` as local processes
    and writes their status back, so Jobs really finish; other pods stay Pending.
    shopcron's runtime image runs the installed `jobs-runtime` (as on `make cluster-up`);
    TEST_IMAGE runs the venv's `python` (tests give the script as args).
    """
    cluster.start_node(
        ("--image=shopcron/jobs-runtime=jobs-runtime", f"--image={TEST_IMAGE}=python")
    )
    yield LocalNode(cluster.directory)
    cluster.stop_node()
