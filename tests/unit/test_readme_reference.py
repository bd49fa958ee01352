"""The README's reference stays complete: every field, variable, exit code and setting a
user can meet is named there (the details live in docs/)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from jobs_runtime.errors import ExitCode

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text()
CRD = yaml.safe_load((REPO / "crds" / "scheduledjobs.shopcron.io.yaml").read_text())
SCHEMA: dict[str, Any] = CRD["spec"]["versions"][0]["schema"]["openAPIV3Schema"]


def field_names(node: dict[str, Any], depth: int) -> set[str]:
    names: set[str] = set()
    for name, child in (node.get("properties") or {}).items():
        names.add(name)
        if depth > 1 and child.get("type") == "object":
            names |= field_names(child, depth - 1)
    return names


def test_every_spec_and_status_field_is_in_the_readme() -> None:
    spec = field_names(SCHEMA["properties"]["spec"], depth=2)
    status = set(SCHEMA["properties"]["status"]["properties"])
    # Written as `name` or, below another field, as `parent.name`.
    missing = sorted(n for n in spec | status if not re.search(rf"[`.]{n}\b", README))
    assert not missing, f"README reference lacks {missing}"


def test_every_runtime_variable_and_exit_code_is_in_the_readme() -> None:
    source = (REPO / "jobs-runtime" / "jobs_runtime" / "config.py").read_text()
    variables = set(re.findall(r"SHOPCRON_[A-Z_]+[A-Z]", source))
    assert len(variables) >= 15
    missing = sorted(v for v in variables if v not in README)
    assert not missing, f"README reference lacks {missing}"
    for code in ExitCode:
        assert re.search(rf"^\| [0-9 /]*\b{code.value}\b", README, re.MULTILINE), code


def test_every_operator_setting_is_in_the_readme() -> None:
    source = (REPO / "operator" / "scheduledjob_operator" / "config.py").read_text()
    settings = set(re.findall(r'"(SHOPCRON_[A-Z_]+)"', source))
    assert len(settings) >= 5
    for setting in settings:
        short = setting.removesuffix("_SECRET").removesuffix("_KEY")
        assert setting in README or short in README, setting
