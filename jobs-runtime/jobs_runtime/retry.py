"""Retry decisions (pure): which answers to retry and how long to wait.

Kept apart from the HTTP client so the policy can be tested without a server
and without sleeping.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final

#: Answers that say "try again later": rate limiting and gateway/unavailable
#: errors. Every other 4xx/5xx is the server's final word on that request.
RETRYABLE_STATUSES: Final = frozenset({429, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry one request."""

    max_retries: int = 5
    backoff_seconds: float = 0.5
    max_backoff_seconds: float = 30.0


def backoff_delay(policy: RetryPolicy, retry_number: int, rng: random.Random) -> float:
    """Delay before retry ``retry_number`` (1-based): exponential with "equal jitter".

    Half the exponential step is fixed so retries really back off; the other half
    is random so that concurrent workers do not retry in lockstep.
    """
    step = min(policy.max_backoff_seconds, policy.backoff_seconds * 2.0 ** (retry_number - 1))
    return step / 2 + rng.uniform(0, step / 2)


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait according to a ``Retry-After`` header (delta-seconds or HTTP-date).

    Returns None when the header is absent or unreadable, so the caller falls back
    to its own backoff.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    current = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - current).total_seconds())


def retry_delay(
    policy: RetryPolicy, retry_number: int, retry_after: float | None, rng: random.Random
) -> float:
    """The wait before a retry: the server's ``Retry-After`` if it gave one, else backoff.

    Both are capped at ``max_backoff_seconds`` so one answer cannot park the Job
    until its ``activeDeadlineSeconds``.
    """
    if retry_after is not None:
        return min(retry_after, policy.max_backoff_seconds)
    return backoff_delay(policy, retry_number, rng)
