"""A local node agent: runs shopcron's pods as local processes (development tooling).

There is no kubelet on the local control plane, so pods stay Pending. This agent
plays one node, `local-node`, for the pods it selects (by default those labelled
`app.kubernetes.io/managed-by=shopcron`; everything else stays Pending):

1. binds the pod to the node (pods/binding, like the scheduler);
2. runs its single container as a local process: the image is mapped to a program
   installed in this venv (`--image REPO=ENTRYPOINT`, default
   `shopcron/jobs-runtime=jobs-runtime`), with the container's command, args and
   environment resolved like the kubelet (value, secretKeyRef, configMapKeyRef,
   fieldRef, envFrom, `$(VAR)`); stdout+stderr go to `<state-dir>/pods/<ns>_<pod>.log`;
3. writes the pod status back (Running, then Succeeded/Failed with the exit code and
   the termination message) so the real Job and CronJob controllers see the run end;
4. honours deletion: SIGTERM, SIGKILL after the grace period, then removes the pod
   like a kubelet does (delete with gracePeriodSeconds=0);
5. serves the container logs to the API server, so `kubectl logs [-f]` works.

The container's terminationMessagePath (/dev/termination-log) does not exist
locally: the agent points SHOPCRON_TERMINATION_MESSAGE_PATH at
`<state-dir>/pods/<ns>_<pod>.termination-log` and reads that file when the process
ends. See docs/local-cluster.md for every mapping and decision.

Usage: python -m tests.cluster.node --kubeconfig K --state-dir DIR [--image REPO=ENTRYPOINT]...
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import datetime as dt
import logging
import os
import platform
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.cluster.envresolve import (
    ConfigError,
    ImageMap,
    StartError,
    resolve_command,
    resolve_env,
    unschedulable_reason,
)
from tests.cluster.kubeapi import MERGE_PATCH, ApiError, KubeApi
from tests.cluster.logserver import LogServer
from tests.cluster.podstatus import (
    rfc3339,
    running_status,
    terminated_status,
    termination_message,
    unschedulable_status,
    waiting_status,
)

JSON = dict[str, Any]
log = logging.getLogger("local-node")

DEFAULT_NODE_NAME = "local-node"
DEFAULT_SELECTOR = "app.kubernetes.io/managed-by=shopcron"
DEFAULT_RUNTIME_IMAGE = "shopcron/jobs-runtime:dev"  # the operator's SHOPCRON_RUNTIME_IMAGE default
# The test suite's image: mapped to the venv's `python` by the `node` fixture.
TEST_IMAGE = "shopcron-test/python:1"
READY_FILE = "node.ready"
CONFIG_RETRY_SECONDS = 3.0
WATCH_SECONDS = 240
_PR_SET_PDEATHSIG = 1


def now_rfc3339() -> str:
    return rfc3339(dt.datetime.now(dt.UTC))


def pod_key(pod: JSON) -> str:
    meta = pod["metadata"]
    return f"{meta['namespace']}/{meta['name']}"


def default_images() -> list[str]:
    image = os.environ.get("SHOPCRON_RUNTIME_IMAGE") or DEFAULT_RUNTIME_IMAGE
    return [f"{image}=jobs-runtime"]


def pod_file(state_dir: Path, namespace: str, name: str, suffix: str) -> Path:
    """`<state-dir>/pods/<namespace>_<pod><suffix>`: where a pod's files live."""
    return state_dir / "pods" / f"{namespace}_{name}{suffix}"


@dataclass(frozen=True)
class LocalNode:
    """What tests and scripts need to know about a running node agent."""

    state_dir: Path
    name: str = DEFAULT_NODE_NAME

    def pod_log(self, namespace: str, pod: str) -> Path:
        """The container's stdout+stderr (`tail -f` it)."""
        return pod_file(self.state_dir, namespace, pod, ".log")

    def termination_log(self, namespace: str, pod: str) -> Path:
        """The local stand-in for the container's terminationMessagePath."""
        return pod_file(self.state_dir, namespace, pod, ".termination-log")

    @property
    def agent_log(self) -> Path:
        return self.state_dir / "logs" / "node.log"


@dataclass(frozen=True)
class NodeConfig:
    state_dir: Path
    images: ImageMap
    bin_dir: Path = field(default_factory=lambda: Path(sys.executable).parent)
    node_name: str = DEFAULT_NODE_NAME
    selector: str = DEFAULT_SELECTOR
    shutdown_grace: float = 10.0
    log_port: int | None = 0  # None: no log server; 0: a free port

    @property
    def pods_dir(self) -> Path:
        return self.state_dir / "pods"

    def log_path(self, namespace: str, name: str) -> Path:
        return pod_file(self.state_dir, namespace, name, ".log")

    def message_path(self, namespace: str, name: str) -> Path:
        return pod_file(self.state_dir, namespace, name, ".termination-log")

    def sandbox(self, namespace: str, name: str) -> Path:
        return pod_file(self.state_dir, namespace, name, ".sandbox")


@dataclass
class Container:
    """One running local process and what the agent must remember about it."""

    uid: str
    namespace: str
    name: str
    proc: subprocess.Popen[bytes]
    started_at: str
    started_mono: float
    log_path: Path
    message_path: Path
    message_policy: str
    deadline_mono: float | None = None
    stop_reason: str | None = None
    kill_at: float | None = None
    killed: bool = False


def _die_with_agent() -> None:
    """Runs in the child before exec: SIGTERM it if the agent dies (thread-bound, so the
    agent spawns from its main thread)."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _read_tail(path: Path, size: int = 16384) -> bytes:
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - size))
            return handle.read()
    except OSError:
        return b""


class NodeAgent:
    def __init__(self, api: KubeApi, config: NodeConfig) -> None:
        self.api = api
        self.config = config
        self.events: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.stopping = threading.Event()
        self.pods: dict[str, JSON] = {}  # uid -> latest pod seen
        self.containers: dict[str, Container] = {}  # uid -> running process
        self.done: set[str] = set()  # uids this agent finished (never touched again)
        self.unschedulable: dict[str, str] = {}  # uid -> message already reported
        self.waiting: dict[str, tuple[str, float]] = {}  # uid -> (message, next retry)
        self.synced = False
        self.log_server: LogServer | None = None
        self._running_keys: set[str] = set()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ public
    def is_running(self, namespace: str, name: str) -> bool:
        with self._lock:
            return f"{namespace}/{name}" in self._running_keys

    def run(self) -> None:
        self.config.pods_dir.mkdir(parents=True, exist_ok=True)
        if self.config.log_port is not None:
            self.log_server = LogServer(self.config, self.is_running, port=self.config.log_port)
            self.log_server.start()
        self.ensure_node(ready=True)
        threading.Thread(target=self._watch_loop, name="watch", daemon=True).start()
        try:
            while not self.stopping.is_set():
                try:
                    item: tuple[str, Any] | None = self.events.get(timeout=0.25)
                except queue.Empty:
                    item = None
                try:
                    if item is not None:
                        self._handle(item)
                    self._tick()
                except Exception:
                    log.exception("unexpected error (the agent carries on)")
        finally:
            self.shutdown()

    # ------------------------------------------------------------------ node object
    def ensure_node(self, *, ready: bool) -> None:
        name = self.config.node_name
        arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
        body: JSON = {
            "apiVersion": "v1",
            "kind": "Node",
            "metadata": {
                "name": name,
                "labels": {
                    "kubernetes.io/hostname": name,
                    "kubernetes.io/os": "linux",
                    "kubernetes.io/arch": arch,
                    "node.shopcron.io/local": "true",
                },
            },
        }
        with contextlib.suppress(ApiError):
            self.api.request("POST", "/api/v1/nodes", body)
        stamp = now_rfc3339()
        condition = {
            "type": "Ready",
            "status": "True" if ready else "False",
            "reason": "LocalNodeReady" if ready else "LocalNodeStopped",
            "message": f"shopcron local node agent (pid {os.getpid()}) "
            + ("is running pods as local processes" if ready else "stopped"),
            "lastHeartbeatTime": stamp,
            "lastTransitionTime": stamp,
        }
        port = self.log_server.port if self.log_server else 0
        cpus = str(os.cpu_count() or 1)
        status: JSON = {
            "conditions": [condition],
            "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}],
            "daemonEndpoints": {"kubeletEndpoint": {"Port": port}},
            "capacity": {"cpu": cpus, "memory": "8Gi", "pods": "110"},
            "allocatable": {"cpu": cpus, "memory": "8Gi", "pods": "110"},
            "nodeInfo": {
                "machineID": "local",
                "systemUUID": "local",
                "bootID": "local",
                "kernelVersion": platform.release(),
                "osImage": "shopcron local node (pods run as local processes)",
                "containerRuntimeVersion": "local://",
                "kubeletVersion": "local",
                "kubeProxyVersion": "",
                "operatingSystem": "linux",
                "architecture": arch,
            },
        }
        self.api.request(
            "PATCH", f"/api/v1/nodes/{name}/status", {"status": status}, content_type=MERGE_PATCH
        )

    # ------------------------------------------------------------------ watch thread
    def _watch_loop(self) -> None:
        path = "/api/v1/pods"
        params: dict[str, str | int | bool] = {"labelSelector": self.config.selector}
        resource_version = ""
        while not self.stopping.is_set():
            try:
                if not resource_version:
                    listing = self.api.request("GET", path, params=params)
                    resource_version = listing["metadata"]["resourceVersion"]
                    self.events.put(("synced", listing.get("items", [])))
                for event in self.api.watch(
                    path,
                    {
                        **params,
                        "resourceVersion": resource_version,
                        "allowWatchBookmarks": True,
                        "timeoutSeconds": WATCH_SECONDS,
                    },
                    read_timeout=WATCH_SECONDS + 30,
                ):
                    kind, obj = event.get("type"), event.get("object", {})
                    if kind == "ERROR":
                        if obj.get("code") == 410:  # too old: list again
                            resource_version = ""
                            break
                        raise ApiError(int(obj.get("code", 0)), "WatchError", str(obj))
                    resource_version = obj["metadata"]["resourceVersion"]
                    if kind != "BOOKMARK":
                        self.events.put((str(kind), obj))
            except ApiError as exc:
                if self.stopping.is_set():
                    return
                log.warning("pod watch interrupted (%s); listing again in 1s", exc)
                resource_version = ""
                time.sleep(1)

    # ------------------------------------------------------------------ main loop
    def _handle(self, item: tuple[str, Any]) -> None:
        kind, payload = item
        if kind == "exited":
            uid, code = payload
            self._on_exit(uid, code)
            return
        if kind == "synced":
            items: list[JSON] = payload
            seen = {p["metadata"]["uid"]: p for p in items}
            for uid in list(self.pods):
                if uid not in seen:
                    self._on_deleted(self.pods[uid])
            self.pods = seen
            for uid in list(self.pods):
                self._reconcile_safely(uid)
            if not self.synced:
                self.synced = True
                ready = self.config.state_dir / READY_FILE
                ready.write_text(f"{os.getpid()}\n")
                log.info(
                    "node %s ready: pods selected by %s; images %s; pod logs in %s/",
                    self.config.node_name,
                    self.config.selector,
                    self.config.images.describe(),
                    self.config.pods_dir,
                )
            return
        pod: JSON = payload
        uid = pod["metadata"]["uid"]
        if kind == "DELETED":
            self.pods.pop(uid, None)
            self._on_deleted(pod)
            return
        self.pods[uid] = pod
        self._reconcile_safely(uid)

    def _tick(self) -> None:
        mono = time.monotonic()
        for container in list(self.containers.values()):
            if container.kill_at is not None and not container.killed and mono >= container.kill_at:
                log.info(
                    "pod %s/%s: grace period over, SIGKILL", container.namespace, container.name
                )
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(container.proc.pid, signal.SIGKILL)
                container.killed = True
            if (
                container.deadline_mono is not None
                and container.stop_reason is None
                and mono >= container.deadline_mono
            ):
                pod = self.pods.get(container.uid, {})
                self._stop(container, self._grace(pod), "DeadlineExceeded")
        for uid, (_, retry_at) in list(self.waiting.items()):
            if mono >= retry_at and uid in self.pods:
                self._reconcile_safely(uid)

    def _reconcile_safely(self, uid: str) -> None:
        pod = self.pods.get(uid)
        if pod is None:
            return
        try:
            self._reconcile(pod)
        except Exception as exc:
            log.exception("pod %s: unexpected error", pod_key(pod))
            self._fail_start(pod, f"local node agent error: {exc}")

    def _reconcile(self, pod: JSON) -> None:
        meta, spec = pod["metadata"], pod.get("spec", {})
        uid = meta["uid"]
        node = spec.get("nodeName") or ""
        if uid in self.done or node not in ("", self.config.node_name):
            return
        deleting = meta.get("deletionTimestamp") is not None
        container = self.containers.get(uid)
        if container is not None:
            if deleting and container.stop_reason is None:
                grace = meta.get("deletionGracePeriodSeconds")
                self._stop(
                    container, float(grace if grace is not None else self._grace(pod)), "Deleted"
                )
            return
        phase = pod.get("status", {}).get("phase", "Pending")
        if phase in ("Succeeded", "Failed"):
            return
        if not node:
            if not deleting:
                self._schedule(pod)
            return
        if deleting or phase == "Running":
            # Bound here but no process: deleted before it started, or the agent restarted
            # while it ran (its process died with the previous agent).
            message = (
                "The container could not be located when the pod was terminated"
                if deleting
                else "the local node agent restarted while this container was running"
            )
            self._finish_without_process(pod, message)
            return
        self._start(pod)

    # ------------------------------------------------------------------ scheduling
    def _schedule(self, pod: JSON) -> None:
        uid = pod["metadata"]["uid"]
        problem = unschedulable_reason(pod, self.config.images)
        if problem is not None:
            if self.unschedulable.get(uid) != problem:
                self.unschedulable[uid] = problem
                log.warning("pod %s stays Pending: %s", pod_key(pod), problem)
                self._patch_status(pod, unschedulable_status(pod, problem, now_rfc3339()))
                self._event(
                    pod, "Warning", "FailedScheduling", f"0/1 nodes are available: {problem}"
                )
            return
        meta = pod["metadata"]
        binding = {
            "apiVersion": "v1",
            "kind": "Binding",
            "metadata": {"name": meta["name"], "namespace": meta["namespace"], "uid": uid},
            "target": {"apiVersion": "v1", "kind": "Node", "name": self.config.node_name},
        }
        try:
            self.api.request(
                "POST",
                f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/binding",
                binding,
            )
        except ApiError as exc:
            if exc.status in (404, 409):  # gone, or bound by someone else meanwhile
                return
            raise
        self.unschedulable.pop(uid, None)
        self._event(
            pod,
            "Normal",
            "Scheduled",
            f"Successfully assigned {pod_key(pod)} to {self.config.node_name}",
        )
        pod["spec"]["nodeName"] = self.config.node_name
        self._start(pod)

    # ------------------------------------------------------------------ starting
    def _lookup(self, kind: str, namespace: str, name: str) -> Mapping[str, str] | None:
        plural = {"Secret": "secrets", "ConfigMap": "configmaps"}[kind]
        try:
            obj = self.api.request("GET", f"/api/v1/namespaces/{namespace}/{plural}/{name}")
        except ApiError as exc:
            if exc.status == 404:
                return None
            raise ConfigError(f"cannot read {kind} {namespace}/{name}: {exc}") from exc
        data: dict[str, str] = dict(obj.get("data") or {})
        if kind == "Secret":
            return {k: base64.b64decode(v).decode(errors="replace") for k, v in data.items()}
        for key, value in (obj.get("binaryData") or {}).items():
            data[key] = base64.b64decode(value).decode(errors="replace")
        return data

    def _base_env(self, pod: JSON, sandbox: Path) -> dict[str, str]:
        """What an image would provide; the container's own env is applied over it."""
        return {
            "PATH": f"{self.config.bin_dir}:/usr/local/bin:/usr/bin:/bin",
            "HOME": str(sandbox),
            "HOSTNAME": pod["metadata"]["name"],
            "TMPDIR": str(sandbox / "tmp"),  # the pod's emptyDir at /tmp
            "LANG": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",  # so `tail -f` shows lines as they are printed
        }

    def _start(self, pod: JSON) -> None:
        meta = pod["metadata"]
        uid, namespace, name = meta["uid"], meta["namespace"], meta["name"]
        container_spec: JSON = pod["spec"]["containers"][0]
        try:
            env = resolve_env(container_spec, pod, self._lookup)
        except ConfigError as exc:
            message = str(exc)
            previous = self.waiting.get(uid)
            self.waiting[uid] = (message, time.monotonic() + CONFIG_RETRY_SECONDS)
            if previous is None or previous[0] != message:
                log.warning("pod %s waits: %s", pod_key(pod), message)
                self._patch_status(
                    pod, waiting_status(pod, "CreateContainerConfigError", message, now_rfc3339())
                )
                self._event(pod, "Warning", "Failed", f"Error: {message}")
            return
        except StartError as exc:
            self._fail_start(pod, str(exc))
            return
        self.waiting.pop(uid, None)
        entrypoint = self.config.images.entrypoint(container_spec.get("image", "")) or ""
        try:
            argv = resolve_command(container_spec, entrypoint, env, self.config.bin_dir)
        except StartError as exc:
            self._fail_start(pod, str(exc))
            return
        log_path = self.config.log_path(namespace, name)
        message_path = self.config.message_path(namespace, name)
        sandbox = self.config.sandbox(namespace, name)
        (sandbox / "tmp").mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            message_path.unlink()
        process_env = {
            **self._base_env(pod, sandbox),
            **env,
            "SHOPCRON_TERMINATION_MESSAGE_PATH": str(message_path),
        }
        started_at = now_rfc3339()
        try:
            with log_path.open("wb") as log_file:
                proc = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    cwd=sandbox,
                    env=process_env,
                    start_new_session=True,
                    preexec_fn=_die_with_agent,
                )
        except OSError as exc:
            self._fail_start(pod, f"cannot start {argv[0]}: {exc}")
            return
        deadline = pod["spec"].get("activeDeadlineSeconds")
        container = Container(
            uid=uid,
            namespace=namespace,
            name=name,
            proc=proc,
            started_at=started_at,
            started_mono=time.monotonic(),
            log_path=log_path,
            message_path=message_path,
            message_policy=container_spec.get("terminationMessagePolicy", "File"),
            deadline_mono=None if deadline is None else time.monotonic() + float(deadline),
        )
        self.containers[uid] = container
        with self._lock:
            self._running_keys.add(f"{namespace}/{name}")
        threading.Thread(
            target=self._wait_for_exit, args=(uid, proc), name=f"wait-{name}", daemon=True
        ).start()
        log.info("pod %s started: pid %d, log %s", pod_key(pod), proc.pid, log_path)
        self._patch_status(pod, running_status(pod, proc.pid, started_at, now_rfc3339()))
        self._event(
            pod,
            "Normal",
            "Started",
            f"Started container {container_spec['name']} as local process {proc.pid}; "
            f"log: {log_path}",
        )

    def _wait_for_exit(self, uid: str, proc: subprocess.Popen[bytes]) -> None:
        code = proc.wait()
        self.events.put(("exited", (uid, code)))

    # ------------------------------------------------------------------ stopping
    @staticmethod
    def _grace(pod: JSON) -> float:
        value = pod.get("spec", {}).get("terminationGracePeriodSeconds")
        return float(30 if value is None else value)

    def _stop(self, container: Container, grace: float, reason: str) -> None:
        container.stop_reason = reason
        grace = max(grace, 2.0)  # the kubelet's minimum, too
        pod = self.pods.get(container.uid)
        log.info(
            "pod %s/%s: %s, SIGTERM (SIGKILL in %.0fs)",
            container.namespace,
            container.name,
            reason,
            grace,
        )
        if pod is not None:
            self._event(
                pod, "Normal", "Killing", f"Stopping container ({reason}), grace {grace:.0f}s"
            )
        with contextlib.suppress(ProcessLookupError):
            os.kill(container.proc.pid, signal.SIGTERM)
        container.kill_at = time.monotonic() + grace

    def _on_deleted(self, pod: JSON) -> None:
        uid = pod["metadata"]["uid"]
        self.unschedulable.pop(uid, None)
        self.waiting.pop(uid, None)
        self.done.discard(uid)
        container = self.containers.get(uid)
        if container is not None and container.stop_reason is None:
            self._stop(container, self._grace(pod), "Deleted")

    def _on_exit(self, uid: str, code: int) -> None:
        container = self.containers.pop(uid)
        with self._lock:
            self._running_keys.discard(f"{container.namespace}/{container.name}")
        with contextlib.suppress(ProcessLookupError):  # leftovers of the process group
            os.killpg(container.proc.pid, signal.SIGKILL)
        exit_code = code if code >= 0 else 128 - code
        try:
            file_text: bytes | None = container.message_path.read_bytes()
        except OSError:
            file_text = None
        message = termination_message(
            file_text,
            _read_tail(container.log_path),
            exit_code=exit_code,
            policy=container.message_policy,
        )
        pod_reason = None
        if container.stop_reason == "DeadlineExceeded":
            pod_reason = "DeadlineExceeded"
            message = message or "Pod was active on the node longer than the specified deadline"
        seconds = time.monotonic() - container.started_mono
        key = f"{container.namespace}/{container.name}"
        log.info(
            "pod %s exited with code %d after %.1fs%s: %s",
            key,
            exit_code,
            seconds,
            f" ({container.stop_reason})" if container.stop_reason else "",
            message or "(no termination message)",
        )
        self.done.add(uid)
        pod = self.pods.get(uid)
        if pod is None:  # the pod object is gone already (forced deletion)
            return
        status = terminated_status(
            pod,
            exit_code=exit_code,
            started_at=container.started_at,
            finished_at=now_rfc3339(),
            message=message,
            pid=container.proc.pid,
            pod_reason=pod_reason,
        )
        self._patch_status(pod, status)
        if pod["metadata"].get("deletionTimestamp") is not None:
            self._delete_now(pod)

    def _finish_without_process(self, pod: JSON, message: str) -> None:
        self.done.add(pod["metadata"]["uid"])
        log.warning("pod %s: %s", pod_key(pod), message)
        status = terminated_status(
            pod,
            exit_code=137,
            started_at=None,
            finished_at=now_rfc3339(),
            message=message,
            reason="ContainerStatusUnknown",
        )
        self._patch_status(pod, status)
        if pod["metadata"].get("deletionTimestamp") is not None:
            self._delete_now(pod)

    def _fail_start(self, pod: JSON, message: str) -> None:
        """The container can never start as written: Failed with StartError (exit 128)."""
        uid = pod["metadata"]["uid"]
        if uid in self.done:
            return
        self.done.add(uid)
        self.waiting.pop(uid, None)
        log.warning("pod %s failed to start: %s", pod_key(pod), message)
        stamp = now_rfc3339()
        status = terminated_status(
            pod,
            exit_code=128,
            started_at=None,
            finished_at=stamp,
            message=message,
            reason="StartError",
        )
        self._patch_status(pod, status)
        self._event(pod, "Warning", "Failed", f"Error: {message}")

    def _delete_now(self, pod: JSON) -> None:
        meta = pod["metadata"]
        options = {
            "apiVersion": "v1",
            "kind": "DeleteOptions",
            "gracePeriodSeconds": 0,
            "preconditions": {"uid": meta["uid"]},
        }
        try:
            self.api.request(
                "DELETE", f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}", options
            )
        except ApiError as exc:
            if exc.status not in (404, 409):
                log.warning("pod %s: delete failed: %s", pod_key(pod), exc)

    # ------------------------------------------------------------------ shutdown
    def shutdown(self) -> None:
        """Stop every container (SIGTERM, then SIGKILL), report them, mark the node NotReady."""
        self.stopping.set()
        running = list(self.containers.values())
        for container in running:
            if container.stop_reason is None:
                container.stop_reason = "NodeShutdown"
                with contextlib.suppress(ProcessLookupError):
                    os.kill(container.proc.pid, signal.SIGTERM)
        deadline = time.monotonic() + self.config.shutdown_grace
        for container in running:
            try:
                container.proc.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(container.proc.pid, signal.SIGKILL)
                container.proc.wait()
        for container in running:
            with contextlib.suppress(Exception):
                self._on_exit(container.uid, container.proc.returncode)
        with contextlib.suppress(Exception):
            self.ensure_node(ready=False)
        if self.log_server is not None:
            self.log_server.stop()
        with contextlib.suppress(FileNotFoundError):
            (self.config.state_dir / READY_FILE).unlink()
        log.info("node agent stopped")

    # ------------------------------------------------------------------ API helpers
    def _patch_status(self, pod: JSON, status: JSON) -> None:
        meta = pod["metadata"]
        path = f"/api/v1/namespaces/{meta['namespace']}/pods/{meta['name']}/status"
        body = {"metadata": {"uid": meta["uid"]}, "status": status}
        try:
            updated = self.api.request("PATCH", path, body, content_type=MERGE_PATCH)
        except ApiError as exc:
            if exc.status in (404, 409):
                return
            log.warning("pod %s: status update failed: %s", pod_key(pod), exc)
            return
        if updated.get("metadata", {}).get("uid") == meta["uid"]:
            self.pods[meta["uid"]] = updated

    def _event(self, pod: JSON, kind: str, reason: str, message: str) -> None:
        meta = pod["metadata"]
        stamp = now_rfc3339()
        event = {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"generateName": f"{meta['name']}.", "namespace": meta["namespace"]},
            "involvedObject": {
                "apiVersion": "v1",
                "kind": "Pod",
                "name": meta["name"],
                "namespace": meta["namespace"],
                "uid": meta["uid"],
            },
            "reason": reason,
            "message": message,
            "type": kind,
            "source": {"component": "local-node", "host": self.config.node_name},
            "firstTimestamp": stamp,
            "lastTimestamp": stamp,
            "count": 1,
        }
        try:
            self.api.request("POST", f"/api/v1/namespaces/{meta['namespace']}/events", event)
        except ApiError as exc:
            log.debug("event for %s not recorded: %s", pod_key(pod), exc)


# ---------------------------------------------------------------------- CLI
def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tests.cluster.node",
        description="Run shopcron's pods on the local control plane as local processes.",
    )
    parser.add_argument("--kubeconfig", type=Path, required=True)
    parser.add_argument("--state-dir", type=Path, required=True, help="pod logs go to DIR/pods/")
    parser.add_argument(
        "--image",
        action="append",
        default=None,
        metavar="REPO=ENTRYPOINT",
        help="image repository (tag ignored) the node runs, and the program used when the "
        "container sets no command (repeatable; default: $SHOPCRON_RUNTIME_IMAGE or "
        f"{DEFAULT_RUNTIME_IMAGE} -> jobs-runtime)",
    )
    parser.add_argument("--bin-dir", type=Path, default=Path(sys.executable).parent)
    parser.add_argument("--node-name", default=DEFAULT_NODE_NAME)
    parser.add_argument(
        "--selector", default=DEFAULT_SELECTOR, help="label selector of the pods to run"
    )
    parser.add_argument("--log-port", type=int, default=0, help="kubectl logs server port (0: any)")
    parser.add_argument("--no-log-server", action="store_true", help="do not serve kubectl logs")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stdout
    )
    try:
        images = ImageMap.parse(args.image if args.image else default_images())
        api = KubeApi.from_kubeconfig(args.kubeconfig)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    config = NodeConfig(
        state_dir=args.state_dir.resolve(),
        images=images,
        bin_dir=args.bin_dir,
        node_name=args.node_name,
        selector=args.selector,
        log_port=None if args.no_log_server else args.log_port,
    )
    agent = NodeAgent(api, config)

    def on_signal(signum: int, frame: object) -> None:
        agent.stopping.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        agent.run()
    except ApiError as exc:
        print(f"error: the API server refused or is unreachable: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
