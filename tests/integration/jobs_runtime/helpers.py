"""Running jobs-runtime against the test product API, in-process or as a real process."""

from __future__ import annotations

import base64
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest
from jobs_runtime.app import run

from tests.support.product_api import ProductAPI

#: The credential every test uses; tests assert it never reaches any output.
API_KEY = "sk_test_7Qx9Zr2LmW4pVb8N"
API_KEY_B64 = base64.b64encode(f"{API_KEY}:".encode()).decode()
FINISHED = re.compile(
    r"^Finished scheduled job: (?P<job>\S+) \(published=(?P<published>\d+) "
    r"failed=(?P<failed>\d+) skipped=(?P<skipped>\d+)(?: would_publish=(?P<would>\d+))? "
    r"in \d+\.\ds\)$"
)


def runtime_env(api: ProductAPI, termination_path: Path, **overrides: str) -> dict[str, str]:
    """The environment the operator would render, tuned for quick tests (short backoff)."""
    env = {
        "SHOPCRON_JOB_NAME": "nightly-publish",
        "SHOPCRON_HANDLER": "publish-draft-products",
        "SHOPCRON_API_URL": api.url,
        "SHOPCRON_API_VERSION": api.api_version,
        "SHOPCRON_API_KEY": API_KEY,
        "SHOPCRON_DRY_RUN": "false",
        "SHOPCRON_BACKOFF_SECONDS": "0.01",
        "SHOPCRON_MAX_BACKOFF_SECONDS": "2",
        "SHOPCRON_TERMINATION_MESSAGE_PATH": str(termination_path),
    }
    env.update(overrides)
    return env


@dataclass
class RunResult:
    """What a run showed the outside world."""

    code: int
    stdout: str
    stderr: str
    termination: str | None

    @property
    def lines(self) -> list[str]:
        """Output lines, stdout then stderr."""
        return (self.stdout + self.stderr).splitlines()

    def finished(self) -> re.Match[str]:
        """The parsed last line; fails the test if it is not the Finished line."""
        match = FINISHED.match(self.lines[-1]) if self.lines else None
        assert match, f"last line is not the Finished line: {self.lines[-1:]!r}"
        return match

    def assert_no_secret(self) -> None:
        """The key appears nowhere: not raw, not as a Basic header value."""
        for text in (self.stdout, self.stderr, self.termination or ""):
            assert API_KEY not in text
            assert API_KEY_B64 not in text


def read_termination(env: Mapping[str, str]) -> str | None:
    """The termination message the run wrote, or None when it wrote none."""
    configured = env.get("SHOPCRON_TERMINATION_MESSAGE_PATH")
    if configured is None:
        return None
    path = Path(configured)
    return path.read_text() if path.exists() else None


def run_in_process(env: Mapping[str, str], capsys: pytest.CaptureFixture[str]) -> RunResult:
    """Call the runtime's entry function directly (fast; same code path as the process)."""
    capsys.readouterr()
    code = run(env)
    out = capsys.readouterr()
    return RunResult(code, out.out, out.err, read_termination(env))


def runtime_command() -> list[str]:
    """The installed console script when present, else ``python -m jobs_runtime``."""
    script = Path(sys.executable).with_name("jobs-runtime")
    if script.exists():
        return [str(script)]
    found = shutil.which("jobs-runtime")
    return [found] if found else [sys.executable, "-m", "jobs_runtime"]


def subprocess_env(env: Mapping[str, str]) -> dict[str, str]:
    """A clean process environment: PATH and friends, but no inherited SHOPCRON_*."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("SHOPCRON_")}
    return {**base, **env}


def start_process(env: Mapping[str, str]) -> subprocess.Popen[str]:
    """Start the real console script."""
    return subprocess.Popen(
        runtime_command(),
        env=subprocess_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish_process(
    process: subprocess.Popen[str], env: Mapping[str, str], timeout: float = 30
) -> RunResult:
    """Wait for the process and collect what it showed."""
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise
    return RunResult(process.returncode, stdout, stderr, read_termination(env))


def run_process(env: Mapping[str, str], timeout: float = 30) -> RunResult:
    """Run the real console script to completion."""
    return finish_process(start_process(env), env, timeout)


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until true; fail the test with ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.01)


def terminate(process: subprocess.Popen[str]) -> None:
    """Send SIGTERM, as the kubelet does."""
    process.send_signal(signal.SIGTERM)
