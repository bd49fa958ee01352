"""Backoff and Retry-After decisions."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from jobs_runtime.retry import (
    RETRYABLE_STATUSES,
    RetryPolicy,
    backoff_delay,
    parse_retry_after,
    retry_delay,
)

POLICY = RetryPolicy(max_retries=5, backoff_seconds=0.5, max_backoff_seconds=4)


def test_retryable_statuses() -> None:
    assert frozenset({429, 502, 503, 504}) == RETRYABLE_STATUSES


@pytest.mark.parametrize(("retry", "step"), [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (9, 4.0)])
def test_backoff_grows_exponentially_with_jitter_and_a_cap(retry: int, step: float) -> None:
    rng = random.Random(7)
    delays = [backoff_delay(POLICY, retry, rng) for _ in range(200)]
    assert all(step / 2 <= d <= step for d in delays)
    assert len({round(d, 6) for d in delays}) > 100  # jittered, not lockstep


def test_retry_after_in_seconds_and_as_a_date() -> None:
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("Wed, 01 Jan 2025 12:00:10 GMT", now) == 10.0
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after("") is None
    assert parse_retry_after(None) is None


def test_retry_after_wins_over_backoff_but_is_capped() -> None:
    rng = random.Random(1)
    assert retry_delay(POLICY, 1, 2.0, rng) == 2.0
    assert retry_delay(POLICY, 1, 120.0, rng) == 4.0
    assert 0.25 <= retry_delay(POLICY, 1, None, rng) <= 0.5
