"""Run outcomes as a user reads them on the ScheduledJob."""

from __future__ import annotations

from typing import Any

from scheduledjob_operator import runs


def job(
    name: str,
    created: str,
    *,
    result: str = "Running",
    manual: bool = False,
    completed: str | None = None,
) -> dict[str, Any]:
    status: dict[str, Any] = {"startTime": created}
    if result == "Succeeded":
        status["conditions"] = [{"type": "Complete", "status": "True"}]
        status["completionTime"] = completed or created
    elif result == "Failed":
        status["conditions"] = [
            {
                "type": "Failed",
                "status": "True",
                "reason": "BackoffLimitExceeded",
                "message": "Job has reached the specified backoff limit",
                "lastTransitionTime": completed or created,
            }
        ]
    annotations = {"cronjob.kubernetes.io/instantiate": "manual"} if manual else {}
    return {
        "metadata": {"name": name, "creationTimestamp": created, "annotations": annotations},
        "status": status,
    }


T1, T2, T3 = "2026-12-01T00:00:00Z", "2026-12-02T00:00:00Z", "2026-12-03T00:00:00Z"


def test_a_started_run_is_reported_running_with_an_event() -> None:
    update = runs.update_runs({}, [job("pp-1", T1)], {})
    assert update.status["lastRun"] == {
        "jobName": "pp-1",
        "trigger": "Schedule",
        "startTime": T1,
        "result": "Running",
    }
    assert update.status["activeRuns"] == ["pp-1"]
    assert [e.reason for e in update.events] == ["RunStarted"]


def test_success_resets_failures_and_records_summary_once() -> None:
    previous = {
        "consecutiveFailures": 2,
        "lastRun": {"jobName": "pp-2", "result": "Running", "startTime": T2},
    }
    done = job("pp-2", T2, result="Succeeded", completed=T3, manual=True)
    update = runs.update_runs(previous, [done], {"pp-2": "published=5 failed=0 skipped=0 in 1.0s"})
    assert update.status["consecutiveFailures"] == 0
    assert update.status["lastSuccessfulTime"] == T3
    assert update.status["lastRun"]["trigger"] == "Manual"
    assert update.status["lastRun"]["summary"].startswith("published=5")
    assert [(e.type, e.reason) for e in update.events] == [("Normal", "RunSucceeded")]
    # The same finished Job seen again (another event, or after a restart): no new
    # event and no change in counts.
    again = runs.update_runs({**previous, **update.status}, [done], {})
    assert again.events == ()
    assert "consecutiveFailures" not in again.status


def test_failures_count_up_and_warn_with_the_summary() -> None:
    previous: dict[str, Any] = {}
    for number, created in enumerate((T1, T2), start=1):
        failed = job(f"pp-{number}", created, result="Failed")
        update = runs.update_runs(previous, [failed], {f"pp-{number}": "credential refused"})
        previous = {**previous, **update.status}
        assert previous["consecutiveFailures"] == number
        assert update.events[-1].type == "Warning"
        assert "credential refused" in update.events[-1].message


def test_failed_run_without_summary_uses_the_job_condition() -> None:
    update = runs.update_runs({}, [job("pp-1", T1, result="Failed")], {})
    assert "backoff limit" in update.status["lastRun"]["summary"]


def test_an_older_job_listed_after_a_restart_does_not_replace_the_last_run() -> None:
    previous = {
        "consecutiveFailures": 1,
        "lastRun": {"jobName": "pp-3", "result": "Failed", "startTime": T3},
    }
    update = runs.update_runs(previous, [job("pp-1", T1, result="Succeeded")], {})
    assert "lastRun" not in update.status
    assert update.events == ()


def test_a_running_job_deleted_is_reported_failed_not_running_forever() -> None:
    previous = {"lastRun": {"jobName": "pp-1", "result": "Running", "startTime": T1}}
    update = runs.update_runs(previous, [], {}, deleted="pp-1")
    assert update.status["lastRun"]["result"] == "Failed"
    assert update.status["activeRuns"] == []
    assert update.status["consecutiveFailures"] == 1


def test_history_cleanup_of_a_finished_job_changes_nothing_but_active_runs() -> None:
    previous = {
        "activeRuns": [],
        "lastRun": {"jobName": "pp-2", "result": "Succeeded", "startTime": T2},
    }
    update = runs.update_runs(previous, [job("pp-2", T2, result="Succeeded")], {}, deleted="pp-1")
    assert update.events == ()


def test_manual_job_names_are_unique_per_value_and_fit_label_values() -> None:
    long_name = "x" * 52
    first = runs.manual_job_name(long_name, "2026-12-03T10:00")
    assert first == runs.manual_job_name(long_name, "2026-12-03T10:00")
    assert first != runs.manual_job_name(long_name, "2026-12-03T10:01")
    assert len(first) <= 63
    assert "-manual-" in first


def test_manual_job_copies_the_cronjob_template() -> None:
    cronjob = {
        "metadata": {"name": "pp", "namespace": "shop", "uid": "u1"},
        "spec": {
            "jobTemplate": {
                "metadata": {"labels": {"shopcron.io/scheduledjob": "pp"}},
                "spec": {"backoffLimit": 2, "template": {"spec": {"restartPolicy": "Never"}}},
            }
        },
    }
    owner = {"kind": "CronJob", "name": "pp", "uid": "u1", "controller": True}
    made = runs.manual_job(cronjob, "now", owner)
    assert made["metadata"]["labels"] == {"shopcron.io/scheduledjob": "pp"}
    assert made["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    assert made["metadata"]["ownerReferences"] == [owner]
    assert made["spec"]["backoffLimit"] == 2
    assert runs.job_trigger(made) == "Manual"
