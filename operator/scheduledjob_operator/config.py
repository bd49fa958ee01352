"""Operator settings, read once from the environment at start-up.

The Deployment sets these from the `shopcron-operator-defaults` ConfigMap; `make run`
and the tests set them directly. Every name is documented in docs/operator.md.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from scheduledjob_operator.spec import Defaults

DEFAULT_RUNTIME_IMAGE = "shopcron/jobs-runtime:dev"
DEFAULT_API_URL = "http://medusa.shop.svc.cluster.local:9000"
DEFAULT_SECRET_NAME = "shopcron-backend"  # noqa: S105 - a Secret's name, not a secret
DEFAULT_SECRET_KEY = "apiKey"  # noqa: S105 - a key in that Secret


@dataclass(frozen=True)
class Settings:
    defaults: Defaults
    # Seconds between refreshes of status.nextScheduleTimes once a previewed run passed.
    preview_refresh_seconds: float = 30.0


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number; write seconds, e.g. 30") from None
    if value <= 0:
        raise ValueError(f"{name}={raw!r} must be greater than 0")
    return value


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from SHOPCRON_* variables; unknown values fail start-up loudly."""
    env = os.environ if env is None else env
    defaults = Defaults(
        runtime_image=env.get("SHOPCRON_RUNTIME_IMAGE") or DEFAULT_RUNTIME_IMAGE,
        api_url=env.get("SHOPCRON_DEFAULT_API_URL") or DEFAULT_API_URL,
        credentials_secret_name=env.get("SHOPCRON_DEFAULT_CREDENTIALS_SECRET")
        or DEFAULT_SECRET_NAME,
        credentials_secret_key=env.get("SHOPCRON_DEFAULT_CREDENTIALS_KEY") or DEFAULT_SECRET_KEY,
        image_pull_policy=env.get("SHOPCRON_IMAGE_PULL_POLICY") or "IfNotPresent",
    )
    return Settings(
        defaults=defaults,
        preview_refresh_seconds=_positive_float(env, "SHOPCRON_PREVIEW_REFRESH_SECONDS", 30.0),
    )
