"""Fixtures for tests that need shopcron's CRD and a running operator."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.cluster.harness import LocalCluster
from tests.support.kubectl import run_kubectl
from tests.support.operator_identity import rbac_refusals
from tests.support.operator_process import OperatorProcess
from tests.support.scheduledjobs import ScheduledJobs


def kubectl(cluster: LocalCluster, *args: str, input_: str | None = None) -> str:
    return run_kubectl(cluster.kubeconfig, *args, stdin=input_)


@pytest.fixture(scope="module")
def operator(
    operator_kubeconfig: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    """The real operator, authenticated as its ServiceAccount (least privilege).

    One per test module, watching all namespaces: it must not outlive the module and
    act on the namespaces of tests that run an operator of their own (tests/e2e).

    Any request the API server refuses for lack of rights fails the session: kopf
    only logs a refused event post, so the log is the place to look."""
    log = tmp_path_factory.mktemp("operator") / "operator.log"
    process = OperatorProcess(
        kubeconfig=operator_kubeconfig,
        log_path=log,
        env={
            "SHOPCRON_DEFAULT_API_URL": "http://product-api.test.svc:9000",
            "SHOPCRON_PREVIEW_REFRESH_SECONDS": "2",
        },
    )
    process.start()
    yield process
    process.stop()
    refused = rbac_refusals(process.log())
    assert not refused, "the operator was refused by RBAC:\n" + "\n".join(refused[:20])


@pytest.fixture
def sjs(api_client: client.ApiClient, namespace: str, crd: str) -> ScheduledJobs:
    return ScheduledJobs(api_client, namespace)
