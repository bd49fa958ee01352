"""What the operator does with an existing CronJob, decided without a cluster."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from scheduledjob_operator import conditions, plan

UID = "6f1d-uid"


def cronjob(owner_uid: str | None, schedule: str = "0 0 * * *") -> dict[str, Any]:
    refs = (
        [{"kind": "ScheduledJob", "name": "pp", "uid": owner_uid, "controller": True}]
        if owner_uid
        else []
    )
    return {
        "metadata": {
            "name": "pp",
            "labels": {"app.kubernetes.io/managed-by": "shopcron"},
            "ownerReferences": refs,
            "resourceVersion": "42",
        },
        "spec": {"schedule": schedule, "timeZone": "Etc/UTC"},
    }


def test_missing_cronjob_is_created() -> None:
    assert plan.plan_cronjob(None, cronjob(UID), UID) is plan.Action.CREATE


def test_cronjob_of_someone_else_is_never_taken_over() -> None:
    assert plan.plan_cronjob(cronjob(None), cronjob(UID), UID) is plan.Action.FOREIGN


def test_cronjob_of_a_deleted_namesake_is_left_to_the_garbage_collector() -> None:
    assert plan.plan_cronjob(cronjob("old"), cronjob(UID), UID) is plan.Action.PREVIOUS_OWNER


def test_drift_is_replaced_and_no_drift_is_left_alone() -> None:
    desired = cronjob(UID)
    assert plan.plan_cronjob(cronjob(UID), desired, UID) is plan.Action.NOTHING
    edited = cronjob(UID, schedule="* * * * *")
    assert plan.plan_cronjob(edited, desired, UID) is plan.Action.REPLACE
    body = plan.replacement(edited, desired)
    assert body["metadata"]["resourceVersion"] == "42"
    assert body["spec"]["schedule"] == "0 0 * * *"


def test_ready_condition_keeps_transition_time_while_status_holds() -> None:
    t1 = datetime(2026, 12, 1, tzinfo=UTC)
    t2 = datetime(2026, 12, 2, tzinfo=UTC)
    first = conditions.set_condition(
        None, type_="Ready", status=True, reason="Reconciled", message="ok", generation=1, now=t1
    )
    same = conditions.set_condition(
        first, type_="Ready", status=True, reason="Reconciled", message="ok", generation=2, now=t2
    )
    assert same[0]["lastTransitionTime"] == "2026-12-01T00:00:00Z"
    assert same[0]["observedGeneration"] == 2
    flipped = conditions.set_condition(
        same, type_="Ready", status=False, reason="InvalidSpec", message="bad", generation=3, now=t2
    )
    assert flipped == [
        {
            "type": "Ready",
            "status": "False",
            "reason": "InvalidSpec",
            "message": "bad",
            "lastTransitionTime": "2026-12-02T00:00:00Z",
            "observedGeneration": 3,
        }
    ]
