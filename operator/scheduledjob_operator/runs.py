"""Run outcomes: from the Jobs a ScheduledJob's CronJob started to the status a user reads.

Pure: the kopf layer hands in Job bodies (plain dicts) and the previous status, and
gets back the status fields to write plus the events to post. Every decision is made
by comparing with the previous status, so a restarted operator that sees the same
Jobs again neither counts a failure twice nor repeats an event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

RUNNING, SUCCEEDED, FAILED = "Running", "Succeeded", "Failed"
SCHEDULE, MANUAL = "Schedule", "Manual"
TERMINAL = (SUCCEEDED, FAILED)
# Set by `kubectl create job --from=cronjob/…` and by shopcron's run-now.
INSTANTIATE_ANNOTATION = "cronjob.kubernetes.io/instantiate"
RUN_NOW_ANNOTATION = "shopcron.io/run-now"
MANUAL_SUFFIX = "-manual-"
JOB_NAME_LIMIT = 63  # Job names become label values (job-name=…)


@dataclass(frozen=True)
class Event:
    type: str  # Normal or Warning
    reason: str
    message: str


@dataclass(frozen=True)
class RunUpdate:
    status: dict[str, Any] = field(default_factory=dict)
    events: tuple[Event, ...] = ()


def manual_job_name(cronjob_name: str, run_now_value: str) -> str:
    """Deterministic per run-now value, so a repeated event or a restart cannot start a
    second Job for the same request (creating it again answers 409 AlreadyExists)."""
    digest = hashlib.sha256(run_now_value.encode()).hexdigest()[:8]
    prefix = cronjob_name[: JOB_NAME_LIMIT - len(MANUAL_SUFFIX) - len(digest)].rstrip("-")
    return f"{prefix}{MANUAL_SUFFIX}{digest}"


def manual_job(
    cronjob: Mapping[str, Any], run_now_value: str, owner_reference: Mapping[str, Any]
) -> dict[str, Any]:
    """A Job from the CronJob's template, as `kubectl create job --from=cronjob/…` makes."""
    template = cronjob["spec"]["jobTemplate"]
    meta = template.get("metadata") or {}
    annotations = dict(meta.get("annotations") or {})
    annotations[INSTANTIATE_ANNOTATION] = "manual"
    annotations[RUN_NOW_ANNOTATION] = run_now_value
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": manual_job_name(cronjob["metadata"]["name"], run_now_value),
            "namespace": cronjob["metadata"].get("namespace"),
            "labels": dict(meta.get("labels") or {}),
            "annotations": annotations,
            "ownerReferences": [dict(owner_reference)],
        },
        "spec": template["spec"],
    }


def _condition(job: Mapping[str, Any], type_: str) -> Mapping[str, Any] | None:
    for cond in (job.get("status") or {}).get("conditions") or ():
        if cond.get("type") == type_ and cond.get("status") == "True":
            return cast(Mapping[str, Any], cond)
    return None


def job_result(job: Mapping[str, Any]) -> str:
    if _condition(job, "Complete") is not None:
        return SUCCEEDED
    if _condition(job, "Failed") is not None:
        return FAILED
    return RUNNING


def job_trigger(job: Mapping[str, Any]) -> str:
    annotations = job.get("metadata", {}).get("annotations") or {}
    return MANUAL if annotations.get(INSTANTIATE_ANNOTATION) == "manual" else SCHEDULE


def job_start(job: Mapping[str, Any]) -> str:
    started = (job.get("status") or {}).get("startTime")
    return str(started or job["metadata"].get("creationTimestamp") or "")


def job_completion(job: Mapping[str, Any]) -> str | None:
    status = job.get("status") or {}
    if status.get("completionTime"):
        return str(status["completionTime"])
    failed = _condition(job, "Failed")
    if failed is not None:
        return str(failed.get("lastTransitionTime") or "") or None
    return None


def describe(job: Mapping[str, Any], summary: str | None) -> dict[str, Any]:
    result = job_result(job)
    run: dict[str, Any] = {
        "jobName": job["metadata"]["name"],
        "trigger": job_trigger(job),
        "startTime": job_start(job),
        "result": result,
    }
    completion = job_completion(job) if result in TERMINAL else None
    if completion:
        run["completionTime"] = completion
    if summary:
        run["summary"] = summary
    elif result == FAILED:
        failed = _condition(job, "Failed") or {}
        run["summary"] = str(failed.get("message") or failed.get("reason") or "the Job failed")
    return run


def _order(job: Mapping[str, Any]) -> tuple[str, str]:
    return (str(job["metadata"].get("creationTimestamp") or ""), job["metadata"]["name"])


def update_runs(
    previous: Mapping[str, Any],
    jobs: Iterable[Mapping[str, Any]],
    summaries: Mapping[str, str],
    deleted: str | None = None,
) -> RunUpdate:
    """Status fields for the runs in `jobs` (all Jobs of one ScheduledJob that still exist).

    `previous` is the ScheduledJob's current status; `summaries` maps Job names to the
    runtime's one-line summary (the termination message of the Job's last pod);
    `deleted` names a Job that was just deleted.
    """
    jobs = sorted(jobs, key=_order)
    status: dict[str, Any] = {
        "activeRuns": [j["metadata"]["name"] for j in jobs if job_result(j) == RUNNING]
    }
    last: Mapping[str, Any] = previous.get("lastRun") or {}
    if deleted is not None and last.get("jobName") == deleted and last.get("result") == RUNNING:
        # A run deleted before it finished will never report: say so instead of
        # showing it as running forever.
        stopped = {**last, "result": FAILED, "summary": "the Job was deleted before it finished"}
        failures = int(previous.get("consecutiveFailures") or 0) + 1
        status.update(lastRun=stopped, consecutiveFailures=failures)
        message = f"Job {deleted} was deleted before it finished"
        return RunUpdate(status, (Event("Warning", "RunFailed", message),))
    if not jobs:
        return RunUpdate(status)
    newest = jobs[-1]
    name = newest["metadata"]["name"]
    if last and last.get("jobName") != name and job_start(newest) < str(last.get("startTime")):
        # An older Job seen again (e.g. while a restarted operator lists Jobs): the
        # recorded last run is newer, keep it.
        return RunUpdate(status)
    run = describe(newest, summaries.get(name))
    status["lastRun"] = run
    events: list[Event] = []
    is_new = last.get("jobName") != name
    was_running = is_new or last.get("result") == RUNNING
    how = "by hand" if run["trigger"] == MANUAL else "on schedule"
    if is_new and run["result"] == RUNNING:
        events.append(Event("Normal", "RunStarted", f"Job {name} started {how}"))
    if was_running and run["result"] in TERMINAL:
        failures = int(previous.get("consecutiveFailures") or 0)
        if run["result"] == SUCCEEDED:
            status["consecutiveFailures"] = 0
            status["lastSuccessfulTime"] = run.get("completionTime")
            detail = f": {run['summary']}" if run.get("summary") else ""
            events.append(Event("Normal", "RunSucceeded", f"Job {name} succeeded{detail}"))
        else:
            status["consecutiveFailures"] = failures + 1
            detail = f": {run['summary']}" if run.get("summary") else ""
            events.append(Event("Warning", "RunFailed", f"Job {name} failed{detail}"))
    return RunUpdate(status, tuple(events))


def changed(previous: Mapping[str, Any], update: Mapping[str, Any]) -> bool:
    """True when writing `update` would change what `previous` says."""
    return any(previous.get(key) != value for key, value in update.items())
