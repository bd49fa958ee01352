"""What the local node runs for a container: image mapping, env, $(VAR), command."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.cluster.envresolve import (
    ConfigError,
    ImageMap,
    StartError,
    expand,
    image_repository,
    resolve_command,
    resolve_env,
    unschedulable_reason,
)

POD: dict[str, Any] = {
    "metadata": {
        "name": "publish-products-29-abcde",
        "namespace": "shop",
        "uid": "u-1",
        "labels": {"shopcron.io/scheduledjob": "publish-products"},
        "annotations": {"note": "x"},
    },
    "spec": {"nodeName": "local-node", "serviceAccountName": "default"},
}
STORE: dict[tuple[str, str], dict[str, str]] = {
    ("Secret", "shopcron-backend"): {"apiKey": "sk_secret"},
    ("ConfigMap", "settings"): {"url": "http://api", "level": "info", "bad key": "x"},
}


def lookup(kind: str, namespace: str, name: str) -> Mapping[str, str] | None:
    assert namespace == "shop"
    return STORE.get((kind, name))


@pytest.mark.parametrize(
    ("image", "repo"),
    [
        ("shopcron/jobs-runtime:dev", "shopcron/jobs-runtime"),
        ("shopcron/jobs-runtime", "shopcron/jobs-runtime"),
        ("registry:5000/shopcron/jobs-runtime:1.0", "registry:5000/shopcron/jobs-runtime"),
        ("shopcron/jobs-runtime@sha256:abc", "shopcron/jobs-runtime"),
        ("shopcron/jobs-runtime:dev@sha256:abc", "shopcron/jobs-runtime"),
    ],
)
def test_image_repository_drops_tag_and_digest(image: str, repo: str) -> None:
    assert image_repository(image) == repo


def test_image_map_matches_any_tag_of_the_repository() -> None:
    images = ImageMap.parse(["shopcron/jobs-runtime:dev=jobs-runtime", "test/py=python"])
    assert images.entrypoint("shopcron/jobs-runtime:0.2.0") == "jobs-runtime"
    assert images.entrypoint("test/py:1") == "python"
    assert images.entrypoint("busybox:1") is None
    assert images.describe() == "shopcron/jobs-runtime -> jobs-runtime, test/py -> python"


@pytest.mark.parametrize("spec", ["jobs-runtime", "=x", "repo="])
def test_image_map_rejects_malformed_specs(spec: str) -> None:
    with pytest.raises(ValueError, match="REPOSITORY=ENTRYPOINT"):
        ImageMap.parse([spec])


def test_unschedulable_reasons() -> None:
    images = ImageMap.parse(["shopcron/jobs-runtime=jobs-runtime"])
    one = {"spec": {"containers": [{"name": "a", "image": "shopcron/jobs-runtime:dev"}]}}
    assert unschedulable_reason(one, images) is None
    two = {"spec": {"containers": [{"name": "a", "image": "x"}, {"name": "b", "image": "x"}]}}
    assert "exactly one container" in str(unschedulable_reason(two, images))
    init = {"spec": {**one["spec"], "initContainers": [{"name": "i"}]}}
    assert "init containers" in str(unschedulable_reason(init, images))
    other = {"spec": {"containers": [{"name": "a", "image": "busybox"}]}}
    assert unschedulable_reason(other, images) == (
        "the local node cannot run image 'busybox' (it maps: shopcron/jobs-runtime -> jobs-runtime)"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$(A)-$(B)", "1-two"),
        ("$$(A)", "$(A)"),
        ("$(MISSING) stays", "$(MISSING) stays"),
        ("cost: $5 $", "cost: $5 $"),
        ("$(A", "$(A"),
        ("$$$(A)", "$1"),
        ("", ""),
    ],
)
def test_expand_follows_kubernetes_rules(text: str, expected: str) -> None:
    assert expand(text, {"A": "1", "B": "two"}) == expected


def test_resolve_env_like_the_kubelet() -> None:
    container = {
        "envFrom": [{"prefix": "CFG_", "configMapRef": {"name": "settings"}}],
        "env": [
            {
                "name": "SHOPCRON_API_KEY",
                "valueFrom": {"secretKeyRef": {"name": "shopcron-backend", "key": "apiKey"}},
            },
            {"name": "URL", "valueFrom": {"configMapKeyRef": {"name": "settings", "key": "url"}}},
            {"name": "POD", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
            {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {
                "name": "SJ",
                "valueFrom": {
                    "fieldRef": {"fieldPath": "metadata.labels['shopcron.io/scheduledjob']"}
                },
            },
            {"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
            {"name": "WHO", "value": "$(POD)@$(NS) $(LATER)"},
            {"name": "LATER", "value": "x"},
            {"name": "CFG_level", "value": "debug"},
            {"name": "EMPTY"},
        ],
    }
    env = resolve_env(container, POD, lookup)
    assert env == {
        "CFG_url": "http://api",
        "CFG_level": "debug",  # env overrides envFrom
        "SHOPCRON_API_KEY": "sk_secret",
        "URL": "http://api",
        "POD": "publish-products-29-abcde",
        "NS": "shop",
        "SJ": "publish-products",
        "NODE": "local-node",
        "WHO": "publish-products-29-abcde@shop $(LATER)",  # only earlier names expand
        "LATER": "x",
        "EMPTY": "",
    }
    assert "CFG_bad key" not in env  # invalid names from envFrom are skipped


def test_missing_secret_is_a_config_error_unless_optional() -> None:
    ref = {"secretKeyRef": {"name": "nope", "key": "apiKey"}}
    with pytest.raises(ConfigError, match='secret "nope" not found \\(env K\\)'):
        resolve_env({"env": [{"name": "K", "valueFrom": ref}]}, POD, lookup)
    optional = {"secretKeyRef": {"name": "nope", "key": "apiKey", "optional": True}}
    assert resolve_env({"env": [{"name": "K", "valueFrom": optional}]}, POD, lookup) == {}


def test_missing_key_is_a_config_error() -> None:
    ref = {"secretKeyRef": {"name": "shopcron-backend", "key": "token"}}
    with pytest.raises(
        ConfigError, match="couldn't find key token in Secret shop/shopcron-backend"
    ):
        resolve_env({"env": [{"name": "K", "valueFrom": ref}]}, POD, lookup)


def test_missing_envfrom_source_is_a_config_error_unless_optional() -> None:
    with pytest.raises(ConfigError, match='configmap "nope" not found'):
        resolve_env({"envFrom": [{"configMapRef": {"name": "nope"}}]}, POD, lookup)
    optional = {"envFrom": [{"secretRef": {"name": "nope", "optional": True}}]}
    assert resolve_env(optional, POD, lookup) == {}


def test_unsupported_sources_cannot_start() -> None:
    field = {"fieldRef": {"fieldPath": "status.podIPs"}}
    with pytest.raises(StartError, match="not supported"):
        resolve_env({"env": [{"name": "K", "valueFrom": field}]}, POD, lookup)
    resource = {"resourceFieldRef": {"resource": "limits.cpu"}}
    with pytest.raises(StartError, match="only value, secretKeyRef"):
        resolve_env({"env": [{"name": "K", "valueFrom": resource}]}, POD, lookup)


@pytest.fixture
def bin_dir(tmp_path: Path) -> Path:
    for name in ("jobs-runtime", "python"):
        (tmp_path / name).write_text("#!/bin/sh\n")
        (tmp_path / name).chmod(0o755)
    return tmp_path


def test_command_defaults_to_the_mapped_entrypoint(bin_dir: Path) -> None:
    argv = resolve_command({"args": ["--x", "$(A)"]}, "jobs-runtime", {"A": "1"}, bin_dir)
    assert argv == [str(bin_dir / "jobs-runtime"), "--x", "1"]


def test_command_replaces_the_entrypoint_and_is_found_in_bin_dir(bin_dir: Path) -> None:
    container = {"command": ["python", "-c"], "args": ["print(1)"]}
    assert resolve_command(container, "jobs-runtime", {}, bin_dir) == [
        str(bin_dir / "python"),
        "-c",
        "print(1)",
    ]
    absolute = {"command": [str(bin_dir / "python")]}
    assert resolve_command(absolute, "x", {}, bin_dir) == [str(bin_dir / "python")]


@pytest.mark.parametrize(
    ("command", "message"),
    [
        (["missing"], 'exec: "missing": executable file not found in'),
        (["/usr/bin/env"], "is outside"),
        (["./python"], "give a program name"),
    ],
)
def test_commands_outside_the_bin_dir_cannot_start(
    bin_dir: Path, command: list[str], message: str
) -> None:
    with pytest.raises(StartError, match=message):
        resolve_command({"command": command}, "jobs-runtime", {}, bin_dir)
