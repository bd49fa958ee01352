"""Static checks of jobs-runtime/Dockerfile (no Docker engine here; the kind path builds it)."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DOCKERFILE = REPO / "jobs-runtime" / "Dockerfile"
IGNORE = REPO / "jobs-runtime" / "Dockerfile.dockerignore"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    pairs = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            pairs.append((word.upper(), rest.strip()))
    return pairs


def last_stage() -> list[tuple[str, str]]:
    steps = instructions()
    start = max(i for i, (word, _) in enumerate(steps) if word == "FROM")
    return steps[start:]


def test_multi_stage_on_slim_python() -> None:
    bases = [rest for word, rest in instructions() if word == "FROM"]
    assert len(bases) >= 2
    assert all(re.match(r"python:\$\{PYTHON_VERSION\}-slim AS \w+", b) for b in bases)


def test_runs_as_numeric_non_root_user_with_the_console_script() -> None:
    final = last_stage()
    users = [rest for word, rest in final if word == "USER"]
    assert users, "the final stage must set USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit()
    assert int(uid) != 0
    entrypoint = [rest for word, rest in final if word == "ENTRYPOINT"][-1]
    assert json.loads(entrypoint) == ["jobs-runtime"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["jobs-runtime"] == "jobs_runtime.__main__:main"


def test_read_only_root_file_system_ready() -> None:
    env = " ".join(rest for word, rest in last_stage() if word == "ENV")
    assert "PYTHONDONTWRITEBYTECODE=1" in env


def test_installs_only_the_runtime_extra() -> None:
    runs = " ".join(rest for word, rest in instructions() if word == "RUN")
    assert re.findall(r"pip install '\.\[(\w+)\]'", runs) == ["runtime"]


def test_copied_sources_exist_and_are_not_ignored() -> None:
    sources = [
        src
        for word, rest in instructions()
        if word == "COPY" and not rest.startswith("--from")
        for src in rest.split()[:-1]
    ]
    assert sources
    allowed = {line[1:].rstrip("/") for line in IGNORE.read_text().splitlines() if line[:1] == "!"}
    for src in sources:
        assert (REPO / src).exists(), src
        assert src.rstrip("/") in allowed, f"{src} is excluded by {IGNORE.name}"
