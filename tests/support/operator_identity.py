"""The operator's own identity for tests: its ServiceAccount, as the manifests grant it.

Tests run the operator with a token of shopcron-system/shopcron-operator, not as
admin, so every scenario also proves the RBAC rules in manifests/rbac.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.cluster.harness import REPO_ROOT, LocalCluster
from tests.support.kubectl import run_kubectl

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
    run_kubectl(
        cluster.kubeconfig, "apply", "-k", str(REPO_ROOT / "manifests" / "overlays" / "local")
    )
    token = run_kubectl(
        cluster.kubeconfig,
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
