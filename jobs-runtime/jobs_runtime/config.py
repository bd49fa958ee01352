"""Configuration from ``SHOPCRON_*`` environment variables (pure: no I/O).

The operator renders these variables into the CronJob's pod template, so their
names are a contract (DESIGN §4). Parsing collects *every* problem before
failing, because a Job that fails on one typo at a time costs a schedule period
per typo. The API key is wrapped in :class:`Secret` so that no ``repr``, log
line or traceback of a config object can show it.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal
from urllib.parse import urlsplit, urlunsplit

from jobs_runtime.errors import ConfigError

ApiVersion = Literal["v1", "v2"]
LogFormat = Literal["plain", "json"]

DEFAULT_HANDLER: Final = "publish-draft-products"
DEFAULT_TERMINATION_MESSAGE_PATH: Final = "/dev/termination-log"

_TRUE: Final = frozenset({"true", "1", "yes", "on"})
_FALSE: Final = frozenset({"false", "0", "no", "off", ""})


@dataclass(frozen=True, slots=True)
class Secret:
    """A credential that never shows itself in ``repr``/``str`` (so not in tracebacks either)."""

    _value: str = field(repr=False)

    def reveal(self) -> str:
        """Return the raw value; call it only where the value goes on the wire."""
        return self._value

    def __str__(self) -> str:
        return "***"

    def __repr__(self) -> str:
        return "Secret('***')"


@dataclass(frozen=True, slots=True)
class Tuning:
    """Speed and resilience knobs; defaults are gentle on a real Medusa backend."""

    concurrency: int = 4
    page_size: int = 500
    batch_size: int = 100
    timeout_seconds: float = 30.0
    max_retries: int = 5
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class Config:
    """Everything one run needs, validated."""

    job_name: str
    handler: str
    data: Mapping[str, Any]
    api_url: str
    api_version: ApiVersion
    api_key: Secret
    dry_run: bool
    log_format: LogFormat
    tuning: Tuning
    termination_message_path: str


@dataclass(frozen=True, slots=True)
class _Bound:
    """Allowed range of a numeric setting."""

    low: float
    high: float


_INT_SETTINGS: Final[dict[str, tuple[str, _Bound]]] = {
    "SHOPCRON_CONCURRENCY": ("concurrency", _Bound(1, 64)),
    "SHOPCRON_PAGE_SIZE": ("page_size", _Bound(1, 10_000)),
    "SHOPCRON_BATCH_SIZE": ("batch_size", _Bound(1, 1_000)),
    "SHOPCRON_MAX_RETRIES": ("max_retries", _Bound(0, 20)),
}
_FLOAT_SETTINGS: Final[dict[str, tuple[str, _Bound]]] = {
    "SHOPCRON_TIMEOUT_SECONDS": ("timeout_seconds", _Bound(0.1, 600)),
    "SHOPCRON_BACKOFF_SECONDS": ("backoff_seconds", _Bound(0, 60)),
    "SHOPCRON_MAX_BACKOFF_SECONDS": ("max_backoff_seconds", _Bound(0, 600)),
}


def parse_log_format(env: Mapping[str, str]) -> tuple[LogFormat, str | None]:
    """Return the log format and a problem text (or None).

    Read apart from the rest because logging must be set up before the other
    settings are validated, so that their errors come out in the chosen format.
    """
    raw = env.get("SHOPCRON_LOG_FORMAT", "plain").strip().lower() or "plain"
    if raw == "plain":
        return "plain", None
    if raw == "json":
        return "json", None
    return "plain", f"SHOPCRON_LOG_FORMAT must be 'plain' or 'json', not {raw!r}"


def job_name_from_env(env: Mapping[str, str]) -> str:
    """The job's logical name for log lines; falls back to the handler name, never fails."""
    name = env.get("SHOPCRON_JOB_NAME", "").strip()
    if name:
        return name
    return env.get("SHOPCRON_HANDLER", "").strip() or DEFAULT_HANDLER


def termination_message_path_from_env(env: Mapping[str, str]) -> tuple[str, bool]:
    """Return the termination message path and whether it was set explicitly.

    Needed even when the rest of the configuration is broken: the summary of a
    configuration error is written there too.
    """
    raw = env.get("SHOPCRON_TERMINATION_MESSAGE_PATH", "").strip()
    if raw:
        return raw, True
    return DEFAULT_TERMINATION_MESSAGE_PATH, False


def load_config(env: Mapping[str, str], known_handlers: Collection[str]) -> Config:
    """Build a :class:`Config` from the environment or raise :class:`ConfigError` with all problems.

    ``known_handlers`` is passed in (rather than imported) to keep this module free
    of the handler modules and their HTTP dependencies.
    """
    problems: list[str] = []

    log_format, log_problem = parse_log_format(env)
    if log_problem:
        problems.append(log_problem)

    handler = env.get("SHOPCRON_HANDLER", "").strip() or DEFAULT_HANDLER
    if handler not in known_handlers:
        problems.append(
            f"SHOPCRON_HANDLER {handler!r} is not a known handler "
            f"(known: {', '.join(sorted(known_handlers))})"
        )

    data = _parse_data(env.get("SHOPCRON_DATA", ""), problems)
    api_url = _parse_url(env.get("SHOPCRON_API_URL", ""), problems)

    version_raw = env.get("SHOPCRON_API_VERSION", "").strip().lower() or "v2"
    api_version: ApiVersion = "v2"
    if version_raw == "v1":
        api_version = "v1"
    elif version_raw != "v2":
        problems.append(f"SHOPCRON_API_VERSION must be 'v2' or 'v1', not {version_raw!r}")

    api_key = _parse_key(env.get("SHOPCRON_API_KEY"), problems)
    dry_run = _parse_bool(env, "SHOPCRON_DRY_RUN", problems)
    tuning = _parse_tuning(env, problems)
    path, _explicit = termination_message_path_from_env(env)

    if problems:
        raise ConfigError(problems)
    return Config(
        job_name=job_name_from_env(env),
        handler=handler,
        data=data,
        api_url=api_url,
        api_version=api_version,
        api_key=api_key,
        dry_run=dry_run,
        log_format=log_format,
        tuning=tuning,
        termination_message_path=path,
    )


def clean_key(raw: str) -> str:
    """The key as it is used: surrounding whitespace (a newline from ``echo | base64``) removed."""
    return raw.strip()


def _parse_data(raw: str, problems: list[str]) -> dict[str, Any]:
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        problems.append(f"SHOPCRON_DATA is not valid JSON ({exc.msg} at position {exc.pos})")
        return {}
    if not isinstance(value, dict):
        problems.append(f"SHOPCRON_DATA must be a JSON object, not {type(value).__name__}")
        return {}
    return value


def _parse_url(raw: str, problems: list[str]) -> str:
    raw = raw.strip()
    if not raw:
        problems.append(
            "SHOPCRON_API_URL is not set (the product API base URL, e.g. http://medusa:9000)"
        )
        return ""
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        problems.append(
            "SHOPCRON_API_URL must be an absolute http:// or https:// URL "
            f"(got scheme {parts.scheme!r}, host {parts.hostname!r})"
        )
        return ""
    if parts.username or parts.password:
        problems.append("SHOPCRON_API_URL must not carry credentials; use SHOPCRON_API_KEY")
        return ""
    if parts.query or parts.fragment:
        problems.append("SHOPCRON_API_URL must not have a query string or fragment")
        return ""
    try:
        _ = parts.port
    except ValueError:
        problems.append("SHOPCRON_API_URL has an invalid port")
        return ""
    return urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def _parse_key(raw: str | None, problems: list[str]) -> Secret:
    # Messages here must never quote the value.
    if raw is None or not raw.strip():
        problems.append("SHOPCRON_API_KEY is not set (the product API credential)")
        return Secret("")
    key = clean_key(raw)
    if any(ch.isspace() for ch in key):
        problems.append("SHOPCRON_API_KEY contains whitespace inside it")
    elif not key.isprintable() or not key.isascii():
        problems.append("SHOPCRON_API_KEY contains non-printable or non-ASCII characters")
    elif len(key) < 8:
        problems.append("SHOPCRON_API_KEY is too short to be a real key (fewer than 8 characters)")
    return Secret(key)


def _parse_bool(env: Mapping[str, str], name: str, problems: list[str]) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    problems.append(f"{name} must be 'true' or 'false', not {raw!r}")
    return False


def _parse_number(
    env: Mapping[str, str],
    name: str,
    bound: _Bound,
    convert: Callable[[str], float],
    problems: list[str],
) -> float | None:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    try:
        value = convert(raw)
    except ValueError:
        problems.append(f"{name} must be a number, not {raw!r}")
        return None
    if not math.isfinite(value) or not bound.low <= value <= bound.high:
        problems.append(f"{name} must be between {bound.low:g} and {bound.high:g}, not {raw!r}")
        return None
    return value


def _parse_tuning(env: Mapping[str, str], problems: list[str]) -> Tuning:
    values: dict[str, Any] = {}
    for name, (attr, bound) in _INT_SETTINGS.items():
        number = _parse_number(env, name, bound, int, problems)
        if number is not None:
            values[attr] = int(number)
    for name, (attr, bound) in _FLOAT_SETTINGS.items():
        number = _parse_number(env, name, bound, float, problems)
        if number is not None:
            values[attr] = number
    tuning = dataclasses.replace(Tuning(), **values)
    if tuning.max_backoff_seconds < tuning.backoff_seconds:
        problems.append(
            "SHOPCRON_MAX_BACKOFF_SECONDS must not be smaller than SHOPCRON_BACKOFF_SECONDS"
        )
    return tuning
