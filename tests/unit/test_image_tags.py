"""The images `make images` builds are the ones the manifests run and the operator
defaults to, by name and tag; none is `:latest`; the two Dockerfiles agree.

The kind path cannot run on these machines, so these checks keep it correct by
construction: the Makefile names the images, `kind load` copies them into the node,
manifests/overlays/kind must run exactly those (imagePullPolicy Never).
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from scheduledjob_operator import config

REPO = Path(__file__).resolve().parents[2]
KUBECTL = str(Path(sys.executable).with_name("kubectl"))
OPERATOR_REPO, RUNTIME_REPO = "shopcron/operator", "shopcron/jobs-runtime"
# Everything users (or scripts/kind.sh) apply with `kubectl apply -k`.
KUSTOMIZATIONS = (
    "manifests/default",
    "manifests/overlays/kind",
    "manifests/overlays/local",
    "manifests/demo",
    "manifests/job-serviceaccount",
    "manifests/samples",
)


# ---------------------------------------------------------------------------- readers
@cache
def make_variables() -> dict[str, str]:
    """The Makefile's simple variable assignments, with $(VAR) references expanded."""
    raw: dict[str, str] = {}
    assignment = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)\s*(?:\?=|:=|=)\s*(.*?)\s*$")
    for line in (REPO / "Makefile").read_text().splitlines():
        match = assignment.match(line)
        if match:
            raw.setdefault(match.group(1), match.group(2))

    def expand(value: str) -> str:
        return re.sub(r"\$\((\w+)\)", lambda m: expand(raw.get(m.group(1), "")), value)

    return {name: expand(value) for name, value in raw.items()}


@cache
def kustomize(path: str) -> tuple[dict[str, Any], ...]:
    result = subprocess.run(
        [KUBECTL, "kustomize", str(REPO / path)], capture_output=True, text=True, check=True
    )
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def pod_specs(objects: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    specs = []
    for obj in objects:
        if obj["kind"] == "Pod":
            specs.append(obj["spec"])
        elif obj["kind"] in ("Deployment", "Job", "StatefulSet", "DaemonSet"):
            specs.append(obj["spec"]["template"]["spec"])
        elif obj["kind"] == "CronJob":
            specs.append(obj["spec"]["jobTemplate"]["spec"]["template"]["spec"])
    return specs


def containers(objects: tuple[dict[str, Any], ...]) -> list[dict[str, Any]]:
    return [
        c
        for spec in pod_specs(objects)
        for c in (*spec.get("initContainers", ()), *spec["containers"])
    ]


def runtime_defaults(objects: tuple[dict[str, Any], ...]) -> list[str]:
    """SHOPCRON_RUNTIME_IMAGE of every operator-defaults ConfigMap in the output."""
    return [
        obj["data"]["SHOPCRON_RUNTIME_IMAGE"]
        for obj in objects
        if obj["kind"] == "ConfigMap" and obj["metadata"]["name"].startswith("shopcron-operator-")
    ]


def dockerfile(path: str) -> tuple[list[str], list[str]]:
    """(base images of every FROM with ARG defaults expanded, instructions joined per line)."""
    text = (REPO / path).read_text().replace("\\\n", " ")
    stripped = (line.strip() for line in text.splitlines())
    lines = [line for line in stripped if line and not line.startswith("#")]
    args: dict[str, str] = {}
    for line in lines:
        if match := re.fullmatch(r"ARG (\w+)=(\S+)", line):
            args[match.group(1)] = match.group(2)
    bases = [
        re.sub(r"\$\{(\w+)\}", lambda m: args[m.group(1)], line.split()[1])
        for line in lines
        if line.startswith("FROM ")
    ]
    return bases, lines


def instruction(lines: list[str], name: str) -> str:
    """The last `name` instruction's argument (the one that takes effect)."""
    found = [line[len(name) + 1 :] for line in lines if line.startswith(f"{name} ")]
    assert found, f"no {name} instruction"
    return found[-1]


def repo_and_tag(image: str) -> tuple[str, str]:
    name, _, tag = image.rpartition(":")
    return (name, tag) if name and "/" not in tag else (image, "")


# ---------------------------------------------------------------------------- the dev tag
def test_makefile_builds_the_two_images_with_the_dev_tag() -> None:
    variables = make_variables()
    assert repo_and_tag(variables["OPERATOR_IMAGE"]) == (OPERATOR_REPO, "dev")
    assert repo_and_tag(variables["RUNTIME_IMAGE"]) == (RUNTIME_REPO, "dev")


def test_kind_overlay_runs_exactly_what_make_builds_and_kind_loads() -> None:
    variables = make_variables()
    objects = kustomize("manifests/overlays/kind")
    operator_containers = containers(objects)
    assert {c["image"] for c in operator_containers} == {variables["OPERATOR_IMAGE"]}
    # Loaded into the node, never pulled: a missing `kind load` fails loudly.
    assert {c["imagePullPolicy"] for c in operator_containers} == {"Never"}
    assert runtime_defaults(objects) == [variables["RUNTIME_IMAGE"]]
    (defaults,) = [o for o in objects if o["kind"] == "ConfigMap"]
    assert defaults["data"]["SHOPCRON_IMAGE_PULL_POLICY"] == "Never"


def test_kind_demo_product_api_runs_in_the_runtime_image() -> None:
    (container,) = containers(kustomize("manifests/demo"))
    assert container["image"] == make_variables()["RUNTIME_IMAGE"]
    assert container["imagePullPolicy"] == "Never"


def test_operator_default_and_local_cluster_use_the_dev_runtime_image() -> None:
    """`make run`, the tests and the local node agent all expect the dev tag."""
    from tests.cluster import node

    runtime = make_variables()["RUNTIME_IMAGE"]
    assert runtime == config.DEFAULT_RUNTIME_IMAGE
    assert runtime == node.DEFAULT_RUNTIME_IMAGE
    objects = kustomize("manifests/overlays/local")
    assert runtime_defaults(objects) == [runtime]
    assert {c["image"] for c in containers(objects)} == {make_variables()["OPERATOR_IMAGE"]}


# ---------------------------------------------------------------------------- releases
def test_base_manifests_run_the_release_of_this_version() -> None:
    version = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["version"]
    objects = kustomize("manifests/default")
    assert {c["image"] for c in containers(objects)} == {f"{OPERATOR_REPO}:{version}"}
    assert runtime_defaults(objects) == [f"{RUNTIME_REPO}:{version}"]


@pytest.mark.parametrize("path", KUSTOMIZATIONS)
def test_no_manifest_image_is_latest_or_untagged(path: str) -> None:
    objects = kustomize(path)
    images = [c["image"] for c in containers(objects)] + runtime_defaults(objects)
    for image in images:
        _, tag = repo_and_tag(image)
        assert tag, f"{path}: {image} has no tag (means :latest)"
        assert tag != "latest", f"{path}: {image}"


def test_no_built_or_base_image_is_latest() -> None:
    variables = make_variables()
    images = [variables["OPERATOR_IMAGE"], variables["RUNTIME_IMAGE"]]
    for path in ("operator/Dockerfile", "jobs-runtime/Dockerfile"):
        images += dockerfile(path)[0]
    for image in images:
        assert repo_and_tag(image)[1] not in ("", "latest"), image


# ---------------------------------------------------------------------------- Dockerfiles
def test_both_images_share_a_slim_python_base_and_run_as_65532() -> None:
    operator_bases, operator_lines = dockerfile("operator/Dockerfile")
    runtime_bases, runtime_lines = dockerfile("jobs-runtime/Dockerfile")
    assert set(operator_bases) == set(runtime_bases)
    assert all(re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", base) for base in operator_bases)
    assert (
        instruction(operator_lines, "USER") == instruction(runtime_lines, "USER") == "65532:65532"
    )


def test_operator_image_runs_the_documented_command() -> None:
    """ENTRYPOINT + the Deployment's args == the operator command of the docs."""
    _, lines = dockerfile("operator/Dockerfile")
    entrypoint = yaml.safe_load(instruction(lines, "ENTRYPOINT"))
    (deployment,) = [o for o in kustomize("manifests/default") if o["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    command = [*entrypoint, *container["args"]]
    assert command[:2] == ["kopf", "run"]
    options = command[2:]
    module = options.index("-m")  # a module, never a file path (handlers would register twice)
    assert options[module + 1] == "scheduledjob_operator.handlers"
    del options[module : module + 2]
    assert sorted(options) == [
        "--all-namespaces",
        "--liveness=http://0.0.0.0:8080/healthz",
        "--standalone",
    ]
    liveness = re.search(r":(\d+)/healthz", " ".join(command))
    assert liveness is not None
    port = int(liveness.group(1))
    assert {p["containerPort"] for p in container["ports"]} == {port}
    assert yaml.safe_load(instruction(lines, "CMD")) == container["args"]


# ---------------------------------------------------------------------------- kind
def test_kind_cluster_name_agrees_between_makefile_and_kind_config() -> None:
    kind_config = yaml.safe_load((REPO / "kind-config.yaml").read_text())
    assert kind_config["kind"] == "Cluster"
    assert kind_config["apiVersion"] == "kind.x-k8s.io/v1alpha4"
    assert kind_config["name"] == make_variables()["KIND_CLUSTER"]


def test_kind_script_is_valid_bash_and_takes_the_images_from_make() -> None:
    subprocess.run(["bash", "-n", str(REPO / "scripts" / "kind.sh")], check=True)
    script = (REPO / "scripts" / "kind.sh").read_text()
    # No second source of truth for the image names.
    assert OPERATOR_REPO not in script
    assert RUNTIME_REPO not in script
    makefile = (REPO / "Makefile").read_text()
    for target in ("images", "kind-up", "kind-deploy", "kind-demo", "kind-down"):
        assert re.search(rf"^{target}:.*## \S", makefile, re.MULTILINE), target
