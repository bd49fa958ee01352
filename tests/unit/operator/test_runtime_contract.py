"""The operator and jobs-runtime agree: handler names, exit codes, environment."""

from __future__ import annotations

from typing import Any

from jobs_runtime.config import load_config
from jobs_runtime.errors import ExitCode
from jobs_runtime.handlers import HANDLER_NAMES
from scheduledjob_operator.render import CONFIG_ERROR_EXIT_CODE, render_cronjob
from scheduledjob_operator.spec import KNOWN_HANDLERS, RESERVED_ENV, parse_spec

from tests.unit.operator._data import DEFAULTS


def test_operator_knows_exactly_the_runtime_handlers() -> None:
    assert set(KNOWN_HANDLERS) == set(HANDLER_NAMES)


def test_the_exit_code_that_fails_a_job_at_once_is_the_runtime_config_error() -> None:
    assert CONFIG_ERROR_EXIT_CODE == ExitCode.CONFIG_ERROR


def _pod_env(cronjob: dict[str, Any], secret_value: str) -> dict[str, str]:
    """The environment a kubelet would give the container (secretKeyRef resolved)."""
    env: dict[str, str] = {}
    container = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    for var in container["env"]:
        env[var["name"]] = secret_value if "valueFrom" in var else var.get("value", "")
    return env


def test_runtime_reads_the_environment_the_operator_renders() -> None:
    spec = parse_spec(
        "nightly",
        {
            "schedule": "@daily",
            "jobName": "publish-products",
            "data": {"limit": 10, "note": "Grüße"},
            "backend": {"url": "https://shop.example.com/api", "apiVersion": "v1"},
            "dryRun": True,
        },
        DEFAULTS,
    )
    env = _pod_env(render_cronjob("nightly", "shop", spec, DEFAULTS), "sk_test_123")
    assert set(RESERVED_ENV) <= set(env)
    config = load_config(env, HANDLER_NAMES)
    assert config.job_name == "publish-products"
    assert config.handler == "publish-draft-products"
    assert dict(config.data) == {"limit": 10, "note": "Grüße"}
    assert config.api_url.rstrip("/") == "https://shop.example.com/api"
    assert config.api_version == "v1"
    assert config.dry_run is True
