"""Log output: plain lines (default) or JSON lines, with the credential scrubbed.

Set up by :func:`logging_config`, a pure function returning a ``dictConfig``
dict; the library modules only log. The formatter removes every form of the
API key (raw, and inside an HTTP Basic header) from messages *and* tracebacks,
as a second line of defence: no code path is meant to log the key at all.
"""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Final

from jobs_runtime.config import LogFormat

REDACTED: Final = "***"
_MIN_SECRET_LENGTH: Final = 3
_PLAIN_PREFIX: Final = {
    logging.WARNING: "warning: ",
    logging.ERROR: "error: ",
    logging.CRITICAL: "error: ",
}


def secret_variants(raw_key: str | None) -> list[str]:
    """Every spelling of the key that could reach output, longest first."""
    if not raw_key:
        return []
    forms = {raw_key, raw_key.strip()}
    for form in list(forms):
        forms.add(base64.b64encode(f"{form}:".encode()).decode("ascii"))
    return sorted((f for f in forms if len(f) >= _MIN_SECRET_LENGTH), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """Replace each secret in ``text`` by ``***``."""
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


class RuntimeFormatter(logging.Formatter):
    """Formats a record as a plain line or a JSON object, then redacts secrets.

    Plain: the message alone for info (the seed's vocabulary, e.g.
    ``Processing scheduled job: x``), prefixed ``warning:`` or ``error:`` above.
    JSON: ``time``, ``level``, ``job``, ``message`` and any ``extra={"fields": {...}}``.
    """

    def __init__(self, *, log_format: LogFormat, job: str, secrets: Sequence[str] = ()) -> None:
        super().__init__()
        self._json = log_format == "json"
        self._job = job
        self._secrets = list(secrets)

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        if record.exc_info:
            message = f"{message}\n{self.formatException(record.exc_info)}"
        if self._json:
            payload: dict[str, Any] = {
                "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                    timespec="milliseconds"
                ),
                "level": record.levelname.lower(),
                "job": self._job,
                "logger": record.name,
                "message": message,
            }
            fields = getattr(record, "fields", None)
            if isinstance(fields, dict):
                payload.update(fields)
            text = json.dumps(payload, default=str)
        else:
            text = _PLAIN_PREFIX.get(record.levelno, "") + message
        return redact(text, self._secrets)


def logging_config(log_format: LogFormat, job: str, secrets: Sequence[str]) -> dict[str, Any]:
    """The ``logging.config.dictConfig`` for one run: everything to stdout, httpx quiet."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "runtime": {
                "()": RuntimeFormatter,
                "log_format": log_format,
                "job": job,
                "secrets": list(secrets),
            }
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "runtime",
            }
        },
        "loggers": {
            "httpx": {"level": "WARNING"},
            "httpcore": {"level": "WARNING"},
        },
        "root": {"level": "INFO", "handlers": ["stdout"]},
    }
