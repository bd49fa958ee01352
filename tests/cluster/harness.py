"""Start and stop a real local Kubernetes control plane (etcd, kube-apiserver,
kube-controller-manager) built from Go modules by tests/cluster/build.sh.

Used by the pytest fixtures (attached: the processes die with the Python process
that started them) and by `make cluster-up`/`cluster-down` (detached: the pids are
recorded in the cluster directory and only those pids are ever signalled).
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.cluster.pki import Pki, make_pki

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BINARY = REPO_ROOT / "bin" / "k8s-local"
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager")
# What the controller manager runs: only what shopcron's Jobs, CronJobs, owners and
# namespaces need (serviceaccount makes each namespace's `default` ServiceAccount,
# without which the job controller cannot create pods).
CONTROLLERS = (
    "garbage-collector-controller",
    "namespace-controller",
    "job-controller",
    "cronjob-controller",
    "ttl-after-finished-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
)
STATE_FILE = "state.json"
NODE = "node"  # the local node agent (tests/cluster/node.py), started after the control plane
NODE_READY_FILE = "node.ready"
_PR_SET_PDEATHSIG = 1


class ClusterError(RuntimeError):
    """The local control plane could not be started or has stopped working."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def tail(path: Path, lines: int = 30) -> str:
    try:
        text = path.read_text(errors="replace")
    except FileNotFoundError:
        return "(no log written)"
    return "\n".join(text.splitlines()[-lines:])


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it when the starting process dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def pid_is_ours(pid: int, binary: Path, directory: Path) -> bool:
    """True only for a live process running our binary with our cluster directory."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    if not cmdline or cmdline[0].decode(errors="replace") != str(binary):
        return False
    return any(str(directory).encode() in part for part in cmdline)


@dataclass
class LocalCluster:
    """One control plane in one private directory, on free loopback ports."""

    directory: Path
    binary: Path = DEFAULT_BINARY
    detached: bool = False
    start_timeout: float = 90.0
    pki: Pki | None = None
    server: str = ""
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    pids: dict[str, int] = field(default_factory=dict)
    started_in: float = 0.0
    # Start the local node agent with the control plane (`make cluster-up` does).
    with_node: bool = False
    node_args: tuple[str, ...] = ()
    node_started_in: float = 0.0

    def __post_init__(self) -> None:
        self.directory = self.directory.resolve()

    # ------------------------------------------------------------------ paths
    @property
    def kubeconfig(self) -> Path:
        return self.directory / "kubeconfig"

    @property
    def log_dir(self) -> Path:
        return self.directory / "logs"

    def log_path(self, component: str) -> Path:
        return self.log_dir / f"{component}.log"

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> None:
        if not self.binary.exists():
            raise ClusterError(
                f"{self.binary} does not exist: build it with `make k8s-bin` "
                "(needs Go; the first build takes 10-25 minutes)"
            )
        began = time.monotonic()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(exist_ok=True)
        self.pki = make_pki(self.directory / "pki")
        etcd_port, etcd_peer, api_port = free_port(), free_port(), free_port()
        self.server = f"https://127.0.0.1:{api_port}"
        try:
            self._spawn("etcd", self._etcd_args(etcd_port, etcd_peer))
            self._wait(f"http://127.0.0.1:{etcd_port}/health", "etcd", tls=False)
            self._spawn("kube-apiserver", self._apiserver_args(api_port, etcd_port))
            self._wait(f"{self.server}/readyz", "kube-apiserver", tls=True)
            self._write_kubeconfig(self.kubeconfig, "admin", self.pki.admin_token)
            cm_kubeconfig = self.directory / "controller-manager.kubeconfig"
            self._write_kubeconfig(
                cm_kubeconfig, "system:kube-controller-manager", self.pki.controller_manager_token
            )
            self._spawn("kube-controller-manager", self._controller_manager_args(cm_kubeconfig))
            self._wait_for_default_service_account()
            if self.with_node:
                self.start_node(self.node_args)
        except BaseException:
            self.stop()
            raise
        self.started_in = time.monotonic() - began
        self._save_state()

    def stop(self, grace: float = 10.0) -> None:
        """Stop what this cluster started (reverse order), SIGKILL after `grace`."""
        self.stop_node()
        for name in reversed(COMPONENTS):
            pid = self.pids.get(name)
            if pid is None:
                continue
            proc = self.processes.get(name)
            if proc is None and not pid_is_ours(pid, self.binary, self.directory):
                continue
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            self._reap(pid, proc, grace)
        self.pids.clear()
        self.processes.clear()
        with contextlib.suppress(FileNotFoundError):
            (self.directory / STATE_FILE).unlink()

    def __enter__(self) -> LocalCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def check_alive(self) -> None:
        """Raise with the component's log tail if any component has exited."""
        for name, proc in self.processes.items():
            code = proc.poll()
            if code is not None:
                raise ClusterError(
                    f"{name} exited with code {code}; last lines of {self.log_path(name)}:\n"
                    f"{tail(self.log_path(name))}"
                )

    def rss_kib(self) -> dict[str, int]:
        """Resident memory of each component, from /proc (for the figures we report)."""
        sizes: dict[str, int] = {}
        for name, pid in self.pids.items():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        sizes[name] = int(line.split()[1])
        return sizes

    # ------------------------------------------------------------------ detached state
    def _save_state(self) -> None:
        state = {"binary": str(self.binary), "server": self.server, "pids": self.pids}
        (self.directory / STATE_FILE).write_text(json.dumps(state, indent=2))

    @classmethod
    def from_state(cls, directory: Path) -> LocalCluster | None:
        path = directory / STATE_FILE
        if not path.exists():
            return None
        state: dict[str, Any] = json.loads(path.read_text())
        cluster = cls(directory=directory, binary=Path(state["binary"]), detached=True)
        cluster.server = state["server"]
        cluster.pids = {str(k): int(v) for k, v in state["pids"].items()}
        return cluster

    def running_pids(self) -> dict[str, int]:
        return {
            n: p
            for n, p in self.pids.items()
            if (
                node_pid_is_ours(p, self.directory)
                if n == NODE
                else pid_is_ours(p, self.binary, self.directory)
            )
        }

    # ------------------------------------------------------------------ local node agent
    def start_node(self, extra_args: tuple[str, ...] = ()) -> None:
        """Start tests/cluster/node.py against this cluster; pod logs go to DIR/pods/."""
        began = time.monotonic()
        ready = self.directory / NODE_READY_FILE
        with contextlib.suppress(FileNotFoundError):
            ready.unlink()
        log = self.log_path(NODE).open("ab")
        preexec: Callable[[], None] | None = None if self.detached else _die_with_parent
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.cluster.node",
                f"--kubeconfig={self.kubeconfig}",
                f"--state-dir={self.directory}",
                *extra_args,
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=REPO_ROOT,
            start_new_session=True,
            preexec_fn=preexec,
        )
        log.close()
        self.processes[NODE] = proc
        self.pids[NODE] = proc.pid
        deadline = time.monotonic() + self.start_timeout
        while not ready.exists():
            self.check_alive()
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"the local node agent was not ready within {self.start_timeout:.0f}s; "
                    f"last lines of {self.log_path(NODE)}:\n{tail(self.log_path(NODE))}"
                )
            time.sleep(0.1)
        self.node_started_in = time.monotonic() - began
        if self.detached and (self.directory / STATE_FILE).exists():
            self._save_state()

    def stop_node(self, grace: float = 20.0) -> None:
        """SIGTERM the node agent (it stops its pods' processes first), SIGKILL after `grace`."""
        pid = self.pids.pop(NODE, None)
        proc = self.processes.pop(NODE, None)
        if pid is None or (proc is None and not node_pid_is_ours(pid, self.directory)):
            return
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        self._reap(pid, proc, grace)

    # ------------------------------------------------------------------ internals
    def _spawn(self, name: str, args: list[str]) -> None:
        log = self.log_path(name).open("ab")
        preexec: Callable[[], None] | None = None if self.detached else _die_with_parent
        proc = subprocess.Popen(
            [str(self.binary), name, *args],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.directory,
            start_new_session=True,  # Ctrl-C in a terminal reaches us, not them: we stop them.
            preexec_fn=preexec,
        )
        log.close()
        self.processes[name] = proc
        self.pids[name] = proc.pid

    @staticmethod
    def _reap(pid: int, proc: subprocess.Popen[bytes] | None, grace: float) -> None:
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if proc is not None:
                if proc.poll() is not None:
                    return
            elif not Path(f"/proc/{pid}").exists() or _is_zombie(pid):
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        if proc is not None:
            proc.wait(timeout=10)

    def _ssl_context(self) -> ssl.SSLContext:
        assert self.pki is not None
        return ssl.create_default_context(cafile=str(self.pki.ca_cert))

    def _wait(self, url: str, name: str, *, tls: bool) -> None:
        deadline = time.monotonic() + self.start_timeout
        last = ""
        while time.monotonic() < deadline:
            self.check_alive()
            request = urllib.request.Request(url)  # noqa: S310 - loopback URL we built
            context = None
            if tls:
                assert self.pki is not None
                request.add_header("Authorization", f"Bearer {self.pki.admin_token}")
                context = self._ssl_context()
            try:
                with urllib.request.urlopen(request, timeout=5, context=context) as resp:  # noqa: S310
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError) as exc:
                last = str(exc)
            time.sleep(0.2)
        raise ClusterError(
            f"{name} did not become ready within {self.start_timeout:.0f}s ({last}); "
            f"last lines of {self.log_path(name)}:\n{tail(self.log_path(name))}"
        )

    def _wait_for_default_service_account(self) -> None:
        """The controller manager is working once it made default/default."""
        url = f"{self.server}/api/v1/namespaces/default/serviceaccounts/default"
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            self.check_alive()
            assert self.pki is not None
            request = urllib.request.Request(url)  # noqa: S310
            request.add_header("Authorization", f"Bearer {self.pki.admin_token}")
            with contextlib.suppress(urllib.error.URLError, OSError):
                ctx = self._ssl_context()
                with urllib.request.urlopen(request, timeout=5, context=ctx) as resp:  # noqa: S310
                    if resp.status == 200:
                        return
            time.sleep(0.2)
        name = "kube-controller-manager"
        raise ClusterError(
            f"{name} did not create the default ServiceAccount within {self.start_timeout:.0f}s; "
            f"last lines of {self.log_path(name)}:\n{tail(self.log_path(name))}"
        )

    def _write_kubeconfig(self, path: Path, user: str, token: str) -> None:
        assert self.pki is not None
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [
                {
                    "name": "shopcron-local",
                    "cluster": {
                        "server": self.server,
                        "certificate-authority": str(self.pki.ca_cert),
                    },
                }
            ],
            "users": [{"name": user, "user": {"token": token}}],
            "contexts": [
                {"name": "shopcron-local", "context": {"cluster": "shopcron-local", "user": user}}
            ],
            "current-context": "shopcron-local",
        }
        path.write_text(json.dumps(config, indent=2))  # JSON is valid YAML.
        path.chmod(0o600)

    def _etcd_args(self, client_port: int, peer_port: int) -> list[str]:
        client = f"http://127.0.0.1:{client_port}"
        peer = f"http://127.0.0.1:{peer_port}"
        return [
            "--name=local",
            f"--data-dir={self.directory / 'etcd'}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=local={peer}",
            "--unsafe-no-fsync",
            "--watch-progress-notify-interval=5s",
            "--log-level=warn",
            "--quota-backend-bytes=2147483648",
        ]

    def _apiserver_args(self, port: int, etcd_port: int) -> list[str]:
        assert self.pki is not None
        pki = self.pki
        return [
            f"--etcd-servers=http://127.0.0.1:{etcd_port}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={port}",
            f"--cert-dir={self.directory / 'pki'}",
            f"--tls-cert-file={pki.serving_cert}",
            f"--tls-private-key-file={pki.serving_key}",
            f"--client-ca-file={pki.ca_cert}",
            f"--token-auth-file={pki.tokens_csv}",
            "--authorization-mode=RBAC",
            # As on OpenShift and other hardened clusters: setting blockOwnerDeletion
            # needs update rights on the owner's finalizers, so the suite proves them.
            "--enable-admission-plugins=OwnerReferencesPermissionEnforcement",
            "--anonymous-auth=false",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki.sa_pub}",
            f"--service-account-signing-key-file={pki.sa_key}",
            "--service-cluster-ip-range=10.96.0.0/24",
            "--endpoint-reconciler-type=none",
            "--enable-priority-and-fairness=false",
            "--profiling=false",
            "--v=1",
        ]

    def _controller_manager_args(self, kubeconfig: Path) -> list[str]:
        assert self.pki is not None
        return [
            f"--kubeconfig={kubeconfig}",
            f"--controllers={','.join(CONTROLLERS)}",
            "--leader-elect=false",
            "--secure-port=0",
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={self.pki.sa_key}",
            f"--root-ca-file={self.pki.ca_cert}",
            "--profiling=false",
            "--v=1",
        ]


def node_pid_is_ours(pid: int, directory: Path) -> bool:
    """True only for a live node agent started for this cluster directory."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"tests.cluster.node" in cmdline and f"--state-dir={directory}".encode() in cmdline


def _is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


@contextlib.contextmanager
def running_cluster(directory: Path, binary: Path = DEFAULT_BINARY) -> Iterator[LocalCluster]:
    """Attached cluster for tests: stopped on exit, on Ctrl-C and on SIGTERM."""
    cluster = LocalCluster(directory=directory, binary=binary)
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: object) -> None:
        cluster.stop()
        sys.exit(128 + signum)

    signal.signal(signal.SIGTERM, on_sigterm)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        signal.signal(signal.SIGTERM, previous)
