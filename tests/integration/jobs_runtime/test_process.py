"""The real console script as a process: exit codes, termination message, secrets, SIGTERM."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.jobs_runtime.helpers import (
    API_KEY,
    finish_process,
    run_process,
    runtime_command,
    runtime_env,
    start_process,
    subprocess_env,
    terminate,
    wait_until,
)
from tests.support.product_api import Fault, ProductAPI

MakeApi = Callable[..., ProductAPI]


def _scenario(name: str, api: ProductAPI, termination: Path) -> dict[str, str]:
    env = runtime_env(api, termination, SHOPCRON_MAX_RETRIES="1")
    if name == "product failed":
        api.inject(Fault("status", status=500, kinds=frozenset({"batch"})))
    elif name == "config error":
        env["SHOPCRON_API_VERSION"] = "v3"
        env["SHOPCRON_CONCURRENCY"] = "lots"
    elif name == "credential refused":
        api.api_key = "sk_some_other_key_entirely"
    elif name == "unreachable":
        env["SHOPCRON_API_URL"] = "http://127.0.0.1:9"  # discard port: connection refused
    return env


@pytest.mark.parametrize(
    ("scenario", "code", "reason"),
    [
        ("ok", 0, None),
        ("product failed", 1, "; 4 products failed (first: prod_000001: HTTP 500 unknown_error"),
        ("config error", 2, "; configuration error: SHOPCRON_API_VERSION must be 'v2' or 'v1'"),
        ("credential refused", 3, "; credential refused by the product API (HTTP 401"),
        ("unreachable", 3, "; product API unavailable: GET /admin/products: connection error"),
    ],
)
def test_exit_code_termination_message_and_no_secret_on_every_path(
    scenario: str,
    code: int,
    reason: str | None,
    make_api: MakeApi,
    termination_path: Path,
) -> None:
    api = make_api(drafts=4)
    env = _scenario(scenario, api, termination_path)

    result = run_process(env)

    assert result.code == code, result.stdout + result.stderr
    assert result.lines[0] == "Processing scheduled job: nightly-publish"
    result.finished()
    assert result.termination is not None
    assert result.termination.startswith("published=")
    if reason is None:
        assert "; " not in result.termination
    else:
        assert reason in result.termination
    result.assert_no_secret()


def test_config_error_lists_every_problem_without_quoting_the_key(termination_path: Path) -> None:
    env = {
        "SHOPCRON_JOB_NAME": "broken",
        "SHOPCRON_API_KEY": f"{API_KEY} with spaces",
        "SHOPCRON_DATA": "{not json",
        "SHOPCRON_DRY_RUN": "maybe",
        "SHOPCRON_TERMINATION_MESSAGE_PATH": str(termination_path),
    }

    result = run_process(env)

    assert result.code == 2
    problems = [line for line in result.lines if line.startswith("error: Configuration error:")]
    assert len(problems) == 4
    assert "SHOPCRON_API_KEY contains whitespace inside it" in result.stdout
    assert API_KEY not in result.stdout + result.stderr + (result.termination or "")
    assert result.lines[-1].startswith("Finished scheduled job: broken (published=0 failed=0")


def test_sigterm_finishes_requests_in_flight_then_exits_143(
    make_api: MakeApi, termination_path: Path
) -> None:
    api = make_api(drafts=200, latency_ms=150)
    env = runtime_env(api, termination_path, SHOPCRON_BATCH_SIZE="10", SHOPCRON_CONCURRENCY="2")
    process = start_process(env)
    wait_until(lambda: api.requests["batch"] >= 3, timeout=20, what="publishing to start")

    terminate(process)
    result = finish_process(process, env, timeout=10)
    requests_at_exit = api.total_requests()

    assert result.code == 143
    assert "warning: Received SIGTERM: finishing requests in flight, starting no new work" in (
        result.lines
    )
    finished = result.finished()
    published = int(finished["published"])
    assert 0 < published < 200
    # Every batch that was sent completed and was counted: nothing cut off mid-flight.
    assert published == len(api.ids("published")) == 10 * api.responses["batch 200"]
    assert int(finished["failed"]) == 0
    assert result.termination is not None
    assert result.termination.endswith("; stopped by SIGTERM before finishing")
    time.sleep(0.3)
    assert api.total_requests() == requests_at_exit
    result.assert_no_secret()


def test_sigterm_during_a_retry_wait_exits_at_once(
    make_api: MakeApi, termination_path: Path
) -> None:
    api = make_api(drafts=5)
    api.inject(Fault("throttle", count=10, retry_after="20"))
    env = runtime_env(api, termination_path, SHOPCRON_MAX_BACKOFF_SECONDS="30")
    process = start_process(env)
    wait_until(lambda: api.requests["list"] >= 1, timeout=10, what="the first request")
    time.sleep(0.2)

    started = time.monotonic()
    terminate(process)
    result = finish_process(process, env, timeout=10)

    assert time.monotonic() - started < 3
    assert result.code == 143
    assert api.requests["list"] == 1
    assert result.termination is not None
    assert "stopped by SIGTERM" in result.termination


def test_unwritable_termination_path_does_not_change_the_outcome(
    make_api: MakeApi, tmp_path: Path
) -> None:
    api = make_api(drafts=2)
    missing_dir = tmp_path / "no" / "such" / "dir" / "termination-log"
    env = runtime_env(api, missing_dir)

    result = run_process(env)

    assert result.code == 0
    assert result.termination is None
    assert api.state()["draft"] == 0


def test_default_termination_path_is_not_created_outside_a_container(
    make_api: MakeApi, tmp_path: Path
) -> None:
    default = Path("/dev/termination-log")
    if default.exists():
        pytest.skip("running where a termination log already exists (a container)")
    api = make_api(drafts=1)
    env = runtime_env(api, tmp_path / "unused")
    del env["SHOPCRON_TERMINATION_MESSAGE_PATH"]

    result = run_process(env)

    assert result.code == 0
    assert not default.exists()


def test_python_dash_m_and_arguments(termination_path: Path) -> None:
    help_run = subprocess.run(
        [*runtime_command(), "--help"], capture_output=True, text=True, check=False
    )
    assert help_run.returncode == 0
    assert "SHOPCRON_API_URL" in help_run.stdout

    stray = subprocess.run(
        [*runtime_command(), "publish"],
        capture_output=True,
        text=True,
        check=False,
        env=subprocess_env({}),
    )
    assert stray.returncode == 2
    assert "takes no arguments" in stray.stderr
