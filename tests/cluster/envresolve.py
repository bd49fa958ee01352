"""What the local node runs for a container: pure decisions, no I/O.

* `ImageMap`: which images the node can run and with which local entrypoint
  (a container image has no meaning on this machine; an installed console script does).
* `resolve_env`: the container's environment the way the kubelet builds it —
  `envFrom` first, then `env` in order with `$(VAR)` expansion, values from
  `value`, `secretKeyRef`, `configMapKeyRef`, `fieldRef`.
* `expand`: the kubelet's `$(VAR)` expansion (`$$` escapes, unknown names stay as written).
* `resolve_command`: command + args with the entrypoint default, and the
  executable looked up in one bin directory only.

Lookups of Secrets and ConfigMaps are injected (`Lookup`), so this module is
unit-tested without a cluster.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

JSON = dict[str, Any]
# (kind "Secret" | "ConfigMap", namespace, name) -> decoded data, or None when it does not exist.
Lookup = Callable[[str, str, str], Mapping[str, str] | None]

_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")
_FIELD_INDEX = re.compile(r"^metadata\.(labels|annotations)\['([^']+)'\]$")


class ConfigError(Exception):
    """The container cannot be configured yet (the kubelet's CreateContainerConfigError)."""


class StartError(Exception):
    """The container can never start as written (the kubelet's StartError, exit code 128)."""


def image_repository(image: str) -> str:
    """`reg:5000/a/b:tag@sha256:…` -> `reg:5000/a/b` (tag and digest dropped)."""
    name = image.split("@", 1)[0]
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name = name[:colon]
    return name


@dataclass(frozen=True)
class ImageMap:
    """Image repository -> entrypoint used when the container sets no `command`."""

    entrypoints: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, specs: list[str]) -> ImageMap:
        """From `REPO=ENTRYPOINT` strings (a tag on REPO is ignored)."""
        entrypoints: dict[str, str] = {}
        for spec in specs:
            repo, sep, entrypoint = spec.partition("=")
            if not sep or not repo or not entrypoint:
                raise ValueError(f"image mapping {spec!r}: write REPOSITORY=ENTRYPOINT")
            entrypoints[image_repository(repo)] = entrypoint
        return cls(entrypoints)

    def entrypoint(self, image: str) -> str | None:
        return self.entrypoints.get(image_repository(image))

    def describe(self) -> str:
        return ", ".join(f"{r} -> {e}" for r, e in sorted(self.entrypoints.items())) or "none"


def unschedulable_reason(pod: JSON, images: ImageMap) -> str | None:
    """Why this node cannot run the pod at all (it then stays Pending, unbound), or None."""
    spec = pod.get("spec", {})
    containers = spec.get("containers", [])
    if spec.get("initContainers"):
        return "the local node does not run init containers"
    if len(containers) != 1:
        return (
            f"the local node runs pods with exactly one container, this one has {len(containers)}"
        )
    image = containers[0].get("image", "")
    if images.entrypoint(image) is None:
        return f"the local node cannot run image {image!r} (it maps: {images.describe()})"
    return None


# ---------------------------------------------------------------- $(VAR) expansion
def expand(text: str, env: Mapping[str, str]) -> str:
    """Kubernetes `$(VAR)` expansion: `$$` -> `$`, `$(NAME)` -> its value when defined."""
    out: list[str] = []
    i = 0
    while i < len(text):
        char = text[i]
        if char != "$" or i + 1 >= len(text):
            out.append(char)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt == "$":
            out.append("$")
            i += 2
        elif nxt == "(":
            end = text.find(")", i + 2)
            if end == -1:
                out.append(text[i:])
                break
            name = text[i + 2 : end]
            out.append(env[name] if name in env else text[i : end + 1])
            i = end + 1
        else:
            out.append(char)
            i += 1
    return "".join(out)


# ---------------------------------------------------------------- env
def _field_value(pod: JSON, path: str) -> str:
    meta = pod.get("metadata", {})
    simple: dict[str, str] = {
        "metadata.name": meta.get("name", ""),
        "metadata.namespace": meta.get("namespace", ""),
        "metadata.uid": meta.get("uid", ""),
        "spec.nodeName": pod.get("spec", {}).get("nodeName", ""),
        "spec.serviceAccountName": pod.get("spec", {}).get("serviceAccountName", ""),
        "status.hostIP": "127.0.0.1",
        "status.podIP": "127.0.0.1",
    }
    if path in simple:
        return simple[path]
    indexed = _FIELD_INDEX.match(path)
    if indexed:
        return str(meta.get(indexed[1], {}).get(indexed[2], ""))
    raise StartError(f"fieldRef {path!r} is not supported by the local node")


def _key_ref(kind: str, ref: JSON, namespace: str, lookup: Lookup, var: str) -> str | None:
    name, key = ref.get("name", ""), ref.get("key", "")
    optional = bool(ref.get("optional", False))
    data = lookup(kind, namespace, name)
    if data is None:
        if optional:
            return None
        raise ConfigError(f'{kind.lower()} "{name}" not found (env {var})')
    if key not in data:
        if optional:
            return None
        raise ConfigError(f"couldn't find key {key} in {kind} {namespace}/{name} (env {var})")
    return data[key]


def resolve_env(container: JSON, pod: JSON, lookup: Lookup) -> dict[str, str]:
    """The container's environment as the kubelet would build it (minus service links)."""
    namespace = pod.get("metadata", {}).get("namespace", "")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []) or []:
        prefix = source.get("prefix", "")
        for kind, ref_field in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            ref = source.get(ref_field)
            if ref is None:
                continue
            data = lookup(kind, namespace, ref.get("name", ""))
            if data is None:
                if ref.get("optional"):
                    continue
                raise ConfigError(f'{kind.lower()} "{ref.get("name", "")}" not found (envFrom)')
            for key, value in data.items():
                if _ENV_NAME.match(prefix + key):
                    env[prefix + key] = value
    for var in container.get("env", []) or []:
        name = var["name"]
        if "valueFrom" not in var or var["valueFrom"] is None:
            env[name] = expand(var.get("value", "") or "", env)
            continue
        source = var["valueFrom"]
        resolved: str | None
        if source.get("secretKeyRef") is not None:
            resolved = _key_ref("Secret", source["secretKeyRef"], namespace, lookup, name)
        elif source.get("configMapKeyRef") is not None:
            resolved = _key_ref("ConfigMap", source["configMapKeyRef"], namespace, lookup, name)
        elif source.get("fieldRef") is not None:
            resolved = _field_value(pod, source["fieldRef"].get("fieldPath", ""))
        else:
            raise StartError(
                f"env {name}: only value, secretKeyRef, configMapKeyRef and "
                "fieldRef are supported by the local node"
            )
        if resolved is not None:
            env[name] = resolved
    return env


# ---------------------------------------------------------------- command
def resolve_command(
    container: JSON, entrypoint: str, env: Mapping[str, str], bin_dir: Path
) -> list[str]:
    """argv for the local process; the executable must be a program in `bin_dir`.

    Docker semantics: `command` replaces the image's entrypoint; `args` follow either.
    Only programs installed in the venv's bin directory run: a container's
    `/usr/bin/x` means a file inside its image, not on this machine.
    """
    command = [expand(c, env) for c in container.get("command") or []]
    args = [expand(a, env) for a in container.get("args") or []]
    argv = (command or [entrypoint]) + args
    program = argv[0]
    candidate = Path(program)
    if candidate.is_absolute():
        if candidate.parent != bin_dir:
            raise StartError(
                f"executable {program!r} is outside {bin_dir}; the local node runs only "
                "programs installed in that directory"
            )
    else:
        if "/" in program:
            raise StartError(f"executable {program!r}: give a program name, not a relative path")
        candidate = bin_dir / program
    if not candidate.is_file():
        raise StartError(
            f'exec: "{program}": executable file not found in {bin_dir} '
            "(is the package installed in this venv?)"
        )
    return [str(candidate), *argv[1:]]
