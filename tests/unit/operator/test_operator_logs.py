"""The operator log keeps what a user reads it for, not one line per watch event."""

from __future__ import annotations

import logging

from scheduledjob_operator.handlers import _quiet_watchers


def record(level: int, message: str) -> logging.LogRecord:
    return logging.LogRecord("kopf.objects", level, __file__, 1, message, None, None)


def test_watch_handler_successes_are_dropped() -> None:
    for handler in ("track", "watch-owned-cronjobs", "watch-runs"):
        assert not _quiet_watchers(record(logging.INFO, f"Handler '{handler}' succeeded."))


def test_reconciles_and_problems_are_kept() -> None:
    assert _quiet_watchers(record(logging.INFO, "Handler 'reconcile-on-create' succeeded."))
    assert _quiet_watchers(record(logging.WARNING, "Handler 'watch-runs' failed temporarily."))
    assert _quiet_watchers(record(logging.INFO, "CronJob pp was changed outside shopcron"))
