"""Say clearly what is missing before a build fails with a stack trace.

Usage: check-prereqs.py python|go
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

MIN_PYTHON = (3, 11)
MIN_GO = (1, 26)


def check_python() -> str | None:
    if sys.version_info < MIN_PYTHON:
        have = ".".join(map(str, sys.version_info[:3]))
        return (
            f"Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} or newer is needed, this is {have}; "
            "run make with PYTHON=/path/to/python3.11"
        )
    return None


def check_go() -> str | None:
    go = shutil.which("go")
    if go is None:
        return (
            "Go is not installed; Go 1.26 or newer builds the local control plane "
            "(etcd, kube-apiserver, kube-controller-manager) from Go modules"
        )
    out = subprocess.run([go, "version"], capture_output=True, text=True, check=False).stdout
    match = re.search(r"go(\d+)\.(\d+)", out)
    if match is None:
        return f"cannot read the Go version from {out.strip()!r}"
    if (int(match[1]), int(match[2])) < MIN_GO:
        return f"Go {MIN_GO[0]}.{MIN_GO[1]} or newer is needed, found {out.strip()}"
    return None


def main(argv: list[str]) -> int:
    checks = {"python": check_python, "go": check_go}
    for what in argv[1:]:
        problem = checks[what]()
        if problem:
            print(f"error: {problem}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
