"""The `Ready` condition, kubebuilder-style: reason and message say what a user should do.

`lastTransitionTime` only moves when the status flips, so `kubectl describe` shows
how long a ScheduledJob has been broken, not when the operator last looked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

READY = "Ready"

# Reasons (CamelCase, stable: users and alerts match on them).
RECONCILED = "Reconciled"
INVALID_SPEC = "InvalidSpec"
CRONJOB_CONFLICT = "CronJobConflict"
API_ERROR = "ApiError"


def set_condition(
    existing: Sequence[Mapping[str, Any]] | None,
    *,
    type_: str,
    status: bool,
    reason: str,
    message: str,
    generation: int | None,
    now: datetime,
) -> list[dict[str, Any]]:
    """Return the conditions list with `type_` set; other condition types are kept."""
    value = "True" if status else "False"
    previous = next((c for c in existing or () if c.get("type") == type_), None)
    if previous is not None and previous.get("status") == value:
        transitioned = str(previous.get("lastTransitionTime") or "")
    else:
        transitioned = ""
    condition: dict[str, Any] = {
        "type": type_,
        "status": value,
        "reason": reason,
        "message": message,
        "lastTransitionTime": transitioned or now.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if generation is not None:
        condition["observedGeneration"] = generation
    others = [dict(c) for c in existing or () if c.get("type") != type_]
    return [*others, condition]
