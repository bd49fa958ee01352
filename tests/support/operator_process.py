"""Run the real operator (`kopf run -m scheduledjob_operator.handlers`) as a process.

Tests and the demo use the operator exactly as `make run` does; the liveness
endpoint tells when it is up.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.cluster.harness import free_port, tail


@dataclass
class OperatorProcess:
    kubeconfig: Path
    log_path: Path
    env: Mapping[str, str] = field(default_factory=dict)
    namespaces: tuple[str, ...] = ()  # empty: all namespaces
    process: subprocess.Popen[bytes] | None = None
    port: int = 0

    def start(self, timeout: float = 30.0) -> None:
        self.port = free_port()
        kopf = Path(sys.executable).with_name("kopf")
        scope = [f"--namespace={ns}" for ns in self.namespaces] or ["--all-namespaces"]
        args = [
            str(kopf),
            "run",
            "--standalone",
            *scope,
            f"--liveness=http://127.0.0.1:{self.port}/healthz",
            "-m",
            "scheduledjob_operator.handlers",
        ]
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig), **self.env}
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"operator exited with code {self.process.returncode}:\n{tail(self.log_path)}"
                )
            try:
                url = f"http://127.0.0.1:{self.port}/healthz"
                with urllib.request.urlopen(url, timeout=2) as resp:
                    if resp.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"operator not live after {timeout:.0f}s:\n{tail(self.log_path)}")

    def stop(self, timeout: float = 15.0) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
