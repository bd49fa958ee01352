"""The kind path end to end, exactly as the README tells users to run it:

    make kind-up kind-deploy kind-demo kind-down

Needs `kind` and a working Docker engine, takes several minutes (two image builds,
a cluster), so it is opt-in: `make test-kind` (SHOPCRON_KIND_E2E=1). Skipped, with
the reason, where kind or Docker is missing (as on the development machines, which
have no Docker engine) or when not asked for.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from tests.cluster.harness import REPO_ROOT

pytestmark = pytest.mark.kind

OPT_IN = "SHOPCRON_KIND_E2E"


def missing_prerequisite() -> str | None:
    """Why the kind path cannot run here, or None."""
    for tool in ("kind", "docker", "make"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (the kind path needs kind, Docker and make)"
    try:
        info = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 30 s (no Docker engine reachable)"
    if info.returncode != 0 or not info.stdout.strip():
        reason = (info.stderr.strip().splitlines() or ["no server version"])[-1]
        return f"no working Docker engine (`docker info` failed: {reason})"
    if os.environ.get(OPT_IN) != "1":
        return f"opt-in (builds two images, creates a kind cluster): `make test-kind` or {OPT_IN}=1"
    return None


def make(cluster: str, *targets: str, timeout: float) -> str:
    result = subprocess.run(
        ["make", *targets, f"KIND_CLUSTER={cluster}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"make {' '.join(targets)} failed:\n{output[-6000:]}"
    return output


@pytest.fixture(scope="module")
def kind_cluster() -> Iterator[str]:
    """A kind cluster of its own (never the user's `shopcron`), deleted afterwards."""
    reason = missing_prerequisite()
    if reason is not None:
        pytest.skip(reason)
    name = f"shopcron-e2e-{secrets.token_hex(3)}"
    try:
        make(name, "kind-up", timeout=600)
        yield name
    finally:
        make(name, "kind-down", timeout=300)


@pytest.mark.timeout(3600)
def test_kind_path_deploys_the_operator_and_the_demo_run_publishes_every_draft(
    kind_cluster: str,
) -> None:
    deploy = make(kind_cluster, "kind-deploy", timeout=2400)
    # `kubectl rollout status` returned: the operator pod is up and its liveness passes
    # (non-root, read-only root file system, only its ServiceAccount's rights).
    assert 'deployment "shopcron-operator" successfully rolled out' in deploy

    demo = make(kind_cluster, "kind-demo", timeout=900)

    # The run's log, followed with `kubectl logs -f`, in the runtime's own words.
    assert "Processing scheduled job: publish-products" in demo
    assert "Finished scheduled job: publish-products (published=25 failed=0 skipped=0" in demo
    # The operator reported the run on the ScheduledJob, and the API has no drafts left.
    assert '"result":"Succeeded"' in demo
    assert '"draft":0' in demo
    assert '"published":25' in demo
