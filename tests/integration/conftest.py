"""Fixtures for tests that need shopcron's CRD and a running operator."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.cluster.harness import REPO_ROOT, LocalCluster
from tests.support.kubectl import run_kubectl
from tests.support.operator_process import OperatorProcess
from tests.support.scheduledjobs import ScheduledJobs


def kubectl(cluster: LocalCluster, *args: str, input_: str | None = None) -> str:
    return run_kubectl(cluster.kubeconfig, *args, stdin=input_)


OPERATOR_SA_NAMESPACE, OPERATOR_SA_NAME = "shopcron-system", "shopcron-operator"
OPERATOR_USER = f"system:serviceaccount:{OPERATOR_SA_NAMESPACE}:{OPERATOR_SA_NAME}"


# What the API server says when authorization refuses a request (RBAC), or when the
# OwnerReferencesPermissionEnforcement plugin does; other 403s (a namespace being
# terminated) are not about rights.
_REFUSAL = re.compile(r' is forbidden: (User "[^"]*" cannot |cannot set blockOwnerDeletion)')


def rbac_refusals(log: str) -> list[str]:
    """The lines of an operator log that show a request refused for lack of rights."""
    return [line for line in log.splitlines() if _REFUSAL.search(line)]


def install_as_operator(cluster: LocalCluster, path: Path) -> Path:
    """Install what users install and write a kubeconfig for the operator's identity.

    Applies `manifests/overlays/local` (CRD, namespace, ServiceAccount, ClusterRole,
    binding, defaults) as admin, asks the TokenRequest API for a token of
    shopcron-system/shopcron-operator and writes a kubeconfig holding only that token.
    """
    kubectl(cluster, "apply", "-k", str(REPO_ROOT / "manifests" / "overlays" / "local"))
    token = kubectl(
        cluster,
        "create",
        "token",
        OPERATOR_SA_NAME,
        f"--namespace={OPERATOR_SA_NAMESPACE}",
        "--duration=6h",
    ).strip()
    config = json.loads(cluster.kubeconfig.read_text())  # the harness writes JSON
    config["users"] = [{"name": OPERATOR_USER, "user": {"token": token}}]
    for context in config["contexts"]:
        context["context"]["user"] = OPERATOR_USER
    path.write_text(json.dumps(config, indent=2))
    path.chmod(0o600)
    return path


@pytest.fixture(scope="session")
def operator_kubeconfig(
    cluster: LocalCluster, crd: str, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A kubeconfig for the operator's own ServiceAccount (the manifests' rights), not admin."""
    return install_as_operator(cluster, tmp_path_factory.mktemp("operator-identity") / "kubeconfig")


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
