"""The operator's ServiceAccount has exactly the rights the operator uses (manifests/rbac).

The `operator` fixture runs every operator scenario with a token of that
ServiceAccount and fails the session on any RBAC refusal in the operator's log;
these tests pin the rights themselves (`kubectl auth can-i`, impersonating the
ServiceAccount with the admin kubeconfig), show the rights that matter only on
hardened clusters (OwnerReferencesPermissionEnforcement) on a control plane that
enforces them, and run a real run (run-now, Job, pod, summary, events) as the
ServiceAccount.
"""

from __future__ import annotations

import json
import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from tests.cluster.harness import LocalCluster, tail
from tests.integration.conftest import kubectl
from tests.support.kubectl import KUBECTL
from tests.support.operator_identity import OPERATOR_USER, install_as_operator, rbac_refusals
from tests.support.operator_process import OperatorProcess
from tests.support.product_api.server import ProductAPI
from tests.support.scheduledjobs import ScheduledJobs, scheduledjob
from tests.support.waiting import wait_for

pytestmark = pytest.mark.cluster

# What `kubectl auth can-i --list` must show for the ServiceAccount, beyond what every
# authenticated user may do: resource -> verbs. docs/deploy.md explains each line.
EXPECTED_RIGHTS: dict[str, set[str]] = {
    "scheduledjobs.shopcron.io": {"get", "list", "watch"},
    "scheduledjobs.shopcron.io/status": {"patch"},
    "scheduledjobs.shopcron.io/finalizers": {"update"},
    "cronjobs.batch": {"get", "list", "watch", "create", "update"},
    "cronjobs.batch/finalizers": {"update"},
    "jobs.batch": {"list", "watch", "create"},
    "pods": {"list"},
    "events": {"create"},
}
# Granted to every authenticated user by the API server's default roles
# (system:basic-user: self reviews); not the operator's doing.
EVERYONE = {
    "selfsubjectreviews.authentication.k8s.io",
    "selfsubjectaccessreviews.authorization.k8s.io",
    "selfsubjectrulesreviews.authorization.k8s.io",
}
# system:discovery, system:public-info-viewer, system:service-account-issuer-discovery.
PUBLIC_URLS = {
    "/api",
    "/apis",
    "/healthz",
    "/livez",
    "/readyz",
    "/version",
    "/openapi",
    "/.well-known/openid-configuration",
    "/openid/v1/jwks",
}


def can_i(cluster: LocalCluster, *args: str) -> bool:
    """`kubectl auth can-i … --as=<the operator's ServiceAccount>`: yes (0) or no (1)."""
    result = subprocess.run(
        [
            KUBECTL,
            f"--kubeconfig={cluster.kubeconfig}",
            "auth",
            "can-i",
            *args,
            f"--as={OPERATOR_USER}",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    answer = result.stdout.strip()
    assert answer in ("yes", "no"), f"kubectl auth can-i {' '.join(args)}: {result.stderr}"
    return answer == "yes"


_ROW = re.compile(r"^(\S*)\s+\[(.*?)\]\s+\[(.*?)\]\s+\[(.*?)\]\s*$")


def rights(listing: str) -> tuple[dict[str, set[str]], dict[str, set[str]]]:
    """A `kubectl auth can-i --list` table as (resource -> verbs, non-resource URL -> verbs)."""
    resources: dict[str, set[str]] = {}
    urls: dict[str, set[str]] = {}
    for line in listing.splitlines()[1:]:
        match = _ROW.match(line)
        assert match, f"unexpected line in kubectl auth can-i --list: {line!r}"
        resource, url, names, verbs = match.groups()
        assert not names, f"rights limited to resource names are not expected: {line!r}"
        target = resources.setdefault(resource, set()) if resource else urls.setdefault(url, set())
        target.update(verbs.split())
    return resources, urls


def test_operator_runs_as_its_service_account_not_admin(operator: OperatorProcess) -> None:
    result = subprocess.run(
        [KUBECTL, f"--kubeconfig={operator.kubeconfig}", "auth", "whoami", "-o", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    user = json.loads(result.stdout)["status"]["userInfo"]
    assert user["username"] == OPERATOR_USER
    assert "system:masters" not in user.get("groups", [])


def test_can_i_list_shows_exactly_what_the_operator_uses(
    cluster: LocalCluster, operator_kubeconfig: Path, namespace: str
) -> None:
    listing = kubectl(cluster, "auth", "can-i", "--list", f"--as={OPERATOR_USER}", "-n", namespace)
    resources, urls = rights(listing)
    granted = {res: verbs for res, verbs in resources.items() if res not in EVERYONE}
    assert granted == EXPECTED_RIGHTS, listing
    # Non-resource URLs: only the public discovery, health and OIDC documents, read-only.
    assert all(verbs == {"get"} for verbs in urls.values()), listing
    assert {url.rstrip("/*") for url in urls} <= PUBLIC_URLS, listing


@pytest.mark.parametrize(
    "request_",
    [
        # Secrets: job pods get the API key through secretKeyRef; the operator never reads it.
        ("get", "secrets"),
        ("list", "secrets"),
        ("watch", "secrets"),
        ("list", "secrets", "--all-namespaces"),
        ("get", "secrets", "-n", "shopcron-system"),
        # No way into running pods, and no pods of its own.
        ("create", "pods", "--subresource=exec"),
        ("create", "pods", "--subresource=attach"),
        ("create", "pods", "--subresource=portforward"),
        ("get", "pods", "--subresource=log"),
        ("create", "pods"),
        ("delete", "pods"),
        ("create", "serviceaccounts", "--subresource=token"),
        # Deletion is the garbage collector's job (owner references).
        ("delete", "cronjobs.batch"),
        ("delete", "jobs.batch"),
        ("patch", "cronjobs.batch"),
        ("update", "jobs.batch"),
        ("delete", "scheduledjobs.shopcron.io"),
        ("create", "scheduledjobs.shopcron.io"),
        ("update", "scheduledjobs.shopcron.io"),
        ("patch", "scheduledjobs.shopcron.io"),
        ("update", "scheduledjobs.shopcron.io", "--subresource=status"),
        # Kinds it does not manage.
        ("get", "deployments.apps"),
        ("create", "deployments.apps"),
        ("get", "configmaps"),
        ("create", "configmaps"),
        ("get", "serviceaccounts"),
        ("list", "namespaces"),
        ("list", "nodes"),
        ("list", "customresourcedefinitions.apiextensions.k8s.io"),
        ("create", "roles.rbac.authorization.k8s.io"),
        ("bind", "clusterroles.rbac.authorization.k8s.io"),
        ("escalate", "clusterroles.rbac.authorization.k8s.io"),
        ("impersonate", "users"),
        ("create", "events.events.k8s.io"),
        ("update", "events"),
    ],
    ids=" ".join,
)
def test_operator_cannot(
    cluster: LocalCluster, operator_kubeconfig: Path, request_: tuple[str, ...]
) -> None:
    scope = [] if "-n" in request_ or "--all-namespaces" in request_ else ["-n", "shop"]
    assert not can_i(cluster, *request_, *scope)


def test_operator_can_do_what_it_uses_in_any_namespace(
    cluster: LocalCluster, operator_kubeconfig: Path
) -> None:
    for namespace in ("default", "shop", f"any-{secrets.token_hex(3)}"):
        for resource, verbs in EXPECTED_RIGHTS.items():
            name, _, sub = resource.partition("/")
            extra = [f"--subresource={sub}"] if sub else []
            for verb in verbs:
                assert can_i(cluster, verb, name, *extra, "-n", namespace), (verb, resource)


@pytest.fixture
def product_api() -> Iterator[ProductAPI]:
    with ProductAPI(drafts=7, api_key=f"sk_rbac_{secrets.token_hex(6)}", api_version="v2") as api:
        yield api


@pytest.mark.usefixtures("node")
def test_a_run_now_is_started_watched_and_summarised_as_the_service_account(
    operator: OperatorProcess,
    sjs: ScheduledJobs,
    core: client.CoreV1Api,
    namespace: str,
    product_api: ProductAPI,
) -> None:
    """Every right for runs in use: create the Job (run-now), watch Jobs, list the pod for
    its termination message, post events; the operator's log must show no refusal."""
    core.create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="shopcron-backend"),
            string_data={"apiKey": product_api.api_key},
        ),
    )
    body = scheduledjob("publish-products", backend={"url": product_api.url})
    body["metadata"]["annotations"] = {"shopcron.io/run-now": "rbac-1"}
    sjs.create(body)

    def finished() -> dict[str, Any] | None:
        last = ((sjs.get("publish-products") or {}).get("status") or {}).get("lastRun") or {}
        return last if last.get("result") in ("Succeeded", "Failed") else None

    try:
        last = wait_for(finished, timeout=60, what="status.lastRun of the run-now Job")
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n--- operator log:\n{tail(operator.log_path, 40)}") from None
    assert last["result"] == "Succeeded"
    assert last["trigger"] == "Manual"
    assert last["summary"].startswith("published=7 failed=0")  # from the pod (pods: list)
    assert product_api.ids("draft") == []
    events = core.list_namespaced_event(
        namespace, field_selector="involvedObject.name=publish-products"
    ).items
    assert "RunRequested" in {event.reason for event in events}  # events: create
    assert not rbac_refusals(operator.log())


# ---------------------------------------------------------------------------- hardened
class _StrictOwnerReferences(LocalCluster):
    """A control plane with OwnerReferencesPermissionEnforcement (as on OpenShift):
    setting blockOwnerDeletion needs `update` on the owner's finalizers."""

    def _apiserver_args(self, port: int, etcd_port: int) -> list[str]:
        return [
            *super()._apiserver_args(port, etcd_port),
            "--enable-admission-plugins=OwnerReferencesPermissionEnforcement",
        ]


def test_owner_references_are_allowed_where_the_api_server_enforces_them(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    directory = tmp_path_factory.mktemp("strict-cluster")
    with _StrictOwnerReferences(directory=directory) as strict:
        sa_kubeconfig = install_as_operator(strict, directory / "operator.kubeconfig")
        kubectl(strict, "wait", "--for=condition=Established", "crd/scheduledjobs.shopcron.io")
        process = OperatorProcess(kubeconfig=sa_kubeconfig, log_path=directory / "operator.log")
        process.start()
        try:
            kubectl(strict, "create", "namespace", "shop")
            sj = scheduledjob("publish-products")
            sj["metadata"]["annotations"] = {"shopcron.io/run-now": "strict-1"}
            kubectl(strict, "apply", "-n", "shop", "-f", "-", input_=json.dumps(sj))

            def owned_objects() -> dict[str, Any] | None:
                listed = json.loads(
                    kubectl(strict, "get", "cronjobs,jobs", "-n", "shop", "-o=json")
                )
                kinds = {item["kind"]: item for item in listed["items"]}
                return kinds if {"CronJob", "Job"} <= kinds.keys() else None

            try:
                kinds = wait_for(owned_objects, timeout=45, what="the CronJob and run-now Job")
            except AssertionError as exc:
                raise AssertionError(f"{exc}\n{tail(process.log_path, 30)}") from None
        finally:
            process.stop()
    cronjob_owner = kinds["CronJob"]["metadata"]["ownerReferences"][0]
    job_owner = kinds["Job"]["metadata"]["ownerReferences"][0]
    assert (cronjob_owner["kind"], cronjob_owner["blockOwnerDeletion"]) == ("ScheduledJob", True)
    assert (job_owner["kind"], job_owner["blockOwnerDeletion"]) == ("CronJob", True)
    assert not rbac_refusals(process.log())
