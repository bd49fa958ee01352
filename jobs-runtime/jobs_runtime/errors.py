"""Errors the runtime raises, and the exit codes they end in.

The process exit code is how Kubernetes (and the operator) learns what went
wrong without reading logs, so every failure maps to exactly one code::

    ShopcronError
    ├── ConfigError           exit 2: environment or SHOPCRON_DATA wrong; retrying won't help
    ├── ApiError              exit 3: the product API could not be used
    │   ├── CredentialRefused     401/403: key wrong, revoked or of the wrong kind
    │   ├── ApiUnreachable        connection errors, timeouts, 429/5xx, bad JSON after retries
    │   └── ApiStatusError        other non-2xx answers (for one product: a product failure)
    └── Stopped               exit 143/130: SIGTERM/SIGINT; in-flight work finished, no new work

Products that fail one by one are not exceptions: they are counted, the run goes
on, and the run ends with exit code 1.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """The process exit codes (documented in docs/runtime.md)."""

    OK = 0
    PRODUCTS_FAILED = 1
    CONFIG_ERROR = 2
    API_ERROR = 3
    INTERNAL_ERROR = 4
    INTERRUPTED = 130  # SIGINT, 128 + 2
    TERMINATED = 143  # SIGTERM, 128 + 15


class ShopcronError(Exception):
    """Base of every error the runtime raises on purpose."""


class ConfigError(ShopcronError):
    """The configuration is unusable; carries every problem found, not just the first."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class ApiError(ShopcronError):
    """The product API could not be used for this run."""


class CredentialRefused(ApiError):
    """The API answered 401 or 403: retrying with the same key cannot succeed."""

    def __init__(self, status: int, detail: str) -> None:
        self.status = status
        self.detail = detail
        super().__init__(f"credential refused by the product API (HTTP {status}: {detail})")


class ApiUnreachable(ApiError):
    """The API did not answer usefully, even after every retry."""

    def __init__(self, reason: str, attempts: int) -> None:
        self.reason = reason
        self.attempts = attempts
        noun = "attempt" if attempts == 1 else "attempts"
        super().__init__(f"product API unavailable: {reason} (after {attempts} {noun})")


class ApiStatusError(ApiError):
    """A non-retryable error answer, with Medusa's error `type` and `message` when present."""

    def __init__(self, status: int, error_type: str | None, message: str) -> None:
        self.status = status
        self.error_type = error_type
        self.message = message
        kind = f" {error_type}" if error_type else ""
        super().__init__(f"HTTP {status}{kind}: {message}")


class Stopped(ShopcronError):
    """Raised instead of starting new work (a request or a retry) after a stop request."""

    def __init__(self) -> None:
        super().__init__("stopped before finishing")
