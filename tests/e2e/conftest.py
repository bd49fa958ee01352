"""Fixtures for the local end-to-end tests: the real operator process, the local node
agent and the product API test server, on the session's local control plane.

Each test gets a fresh namespace and its own operator process watching only that
namespace (`kopf run --namespace=<ns>`; the operator disables kopf's namespace
scanning, so globs are not an option), so it does not compete with an operator the
integration tests may run on the same cluster, and its log is the test's alone.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from tests.cluster.node import LocalNode
from tests.support.namespaces import fresh_namespace
from tests.support.operator_identity import rbac_refusals
from tests.support.operator_process import OperatorProcess
from tests.support.product_api.server import ProductAPI

API_KEY = f"sk_e2e_{secrets.token_hex(8)}"


@pytest.fixture(scope="module")
def product_api() -> Iterator[ProductAPI]:
    """The product API test server; each test adds the drafts it needs."""
    with ProductAPI(api_key=API_KEY, api_version="v2") as api:
        yield api


@pytest.fixture
def e2e_namespace(core: client.CoreV1Api) -> Iterator[str]:
    """A fresh namespace the e2e operator watches (its default ServiceAccount exists)."""
    with fresh_namespace(core, "e2e") as name:
        yield name


@pytest.fixture
def operator(
    operator_kubeconfig: Path,
    node: LocalNode,
    product_api: ProductAPI,
    e2e_namespace: str,
    tmp_path: Path,
) -> Iterator[OperatorProcess]:
    """The real operator as its ServiceAccount, its default backend URL pointed at the
    test server (like `make demo`), watching only this test's namespace."""
    process = OperatorProcess(
        kubeconfig=operator_kubeconfig,
        log_path=tmp_path / "operator.log",
        env={"SHOPCRON_DEFAULT_API_URL": product_api.url},
        namespaces=(e2e_namespace,),
    )
    process.start()
    yield process
    process.stop()
    refused = rbac_refusals(process.log())
    assert not refused, "the operator was refused by RBAC:\n" + "\n".join(refused[:20])
