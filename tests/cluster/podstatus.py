"""Pod status the local node writes back, built like the kubelet's (pure, no I/O).

The Job controller counts pods by `status.phase` (Succeeded/Failed) and reads
`containerStatuses[].state.terminated` (exit code, for podFailurePolicy); `kubectl`
and users read the conditions, reasons and the termination message.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

JSON = dict[str, Any]

# The kubelet's limits (pkg/kubelet/container): message file, and the log fallback.
MAX_MESSAGE_BYTES = 4096
FALLBACK_LOG_LINES = 80
FALLBACK_LOG_BYTES = 2048
LOCAL_IP = "127.0.0.1"


def rfc3339(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def merge_conditions(existing: list[JSON], updates: list[JSON], now: str) -> list[JSON]:
    """Replace conditions by type; keep lastTransitionTime when the status did not change."""
    result = [dict(c) for c in existing]
    for update in updates:
        new = dict(update)
        for i, old in enumerate(result):
            if old.get("type") == new["type"]:
                same = old.get("status") == new["status"]
                new["lastTransitionTime"] = old.get("lastTransitionTime", now) if same else now
                new.setdefault("lastProbeTime", None)
                result[i] = new
                break
        else:
            new.setdefault("lastTransitionTime", now)
            new.setdefault("lastProbeTime", None)
            result.append(new)
    return result


def _condition(kind: str, status: bool, reason: str | None = None) -> JSON:
    cond: JSON = {"type": kind, "status": "True" if status else "False"}
    if reason:
        cond["reason"] = reason
    return cond


def _container_status(
    container: JSON, state: JSON, *, ready: bool, started: bool, cid: str
) -> JSON:
    status: JSON = {
        "name": container["name"],
        "image": container.get("image", ""),
        "imageID": "",
        "ready": ready,
        "started": started,
        "restartCount": 0,
        "state": state,
    }
    if cid:
        status["containerID"] = cid
    return status


def unschedulable_status(pod: JSON, message: str, now: str) -> JSON:
    cond = {**_condition("PodScheduled", False, "Unschedulable"), "message": message}
    return {
        "conditions": merge_conditions(pod.get("status", {}).get("conditions", []), [cond], now)
    }


def waiting_status(pod: JSON, reason: str, message: str, now: str) -> JSON:
    """Bound but not started (e.g. CreateContainerConfigError): Pending, container waiting."""
    container = pod["spec"]["containers"][0]
    state = {"waiting": {"reason": reason, "message": message}}
    conditions = merge_conditions(
        pod.get("status", {}).get("conditions", []),
        [
            _condition("PodReadyToStartContainers", True),
            _condition("Initialized", True),
            _condition("Ready", False, "ContainersNotReady"),
            _condition("ContainersReady", False, "ContainersNotReady"),
        ],
        now,
    )
    return {
        "phase": "Pending",
        "hostIP": LOCAL_IP,
        "hostIPs": [{"ip": LOCAL_IP}],
        "startTime": pod.get("status", {}).get("startTime") or now,
        "conditions": conditions,
        "containerStatuses": [
            _container_status(container, state, ready=False, started=False, cid="")
        ],
    }


def running_status(pod: JSON, pid: int, started_at: str, now: str) -> JSON:
    container = pod["spec"]["containers"][0]
    state = {"running": {"startedAt": started_at}}
    conditions = merge_conditions(
        pod.get("status", {}).get("conditions", []),
        [
            _condition("PodReadyToStartContainers", True),
            _condition("Initialized", True),
            _condition("Ready", True),
            _condition("ContainersReady", True),
            _condition("PodScheduled", True),
        ],
        now,
    )
    return {
        "phase": "Running",
        "hostIP": LOCAL_IP,
        "hostIPs": [{"ip": LOCAL_IP}],
        "podIP": LOCAL_IP,
        "podIPs": [{"ip": LOCAL_IP}],
        "startTime": pod.get("status", {}).get("startTime") or started_at,
        "conditions": conditions,
        "containerStatuses": [
            _container_status(container, state, ready=True, started=True, cid=f"local://{pid}")
        ],
    }


def terminated_status(
    pod: JSON,
    *,
    exit_code: int,
    started_at: str | None,
    finished_at: str,
    message: str,
    reason: str | None = None,
    pid: int | None = None,
    pod_reason: str | None = None,
) -> JSON:
    """Succeeded on exit code 0, Failed otherwise (restartPolicy Never: no restart here)."""
    container = pod["spec"]["containers"][0]
    terminated: JSON = {
        "exitCode": exit_code,
        "reason": reason or ("Completed" if exit_code == 0 else "Error"),
        "startedAt": started_at,
        "finishedAt": finished_at,
    }
    if message:
        terminated["message"] = message
    if pid is not None:
        terminated["containerID"] = f"local://{pid}"
    conditions = merge_conditions(
        pod.get("status", {}).get("conditions", []),
        [
            _condition("PodReadyToStartContainers", False),
            _condition("Ready", False, "PodCompleted"),
            _condition("ContainersReady", False, "PodCompleted"),
        ],
        finished_at,
    )
    status: JSON = {
        "phase": "Succeeded" if exit_code == 0 else "Failed",
        "hostIP": LOCAL_IP,
        "hostIPs": [{"ip": LOCAL_IP}],
        "startTime": pod.get("status", {}).get("startTime") or started_at or finished_at,
        "conditions": conditions,
        "containerStatuses": [
            _container_status(
                container,
                {"terminated": terminated},
                ready=False,
                started=False,
                cid="" if pid is None else f"local://{pid}",
            )
        ],
    }
    if pod_reason:
        status["reason"] = pod_reason
        status["message"] = message
    return status


def termination_message(
    file_text: bytes | None, log_tail: bytes, *, exit_code: int, policy: str
) -> str:
    """The kubelet's rule: the message file (≤ 4 KiB); with FallbackToLogsOnError and an
    empty file on failure, the last 80 log lines (≤ 2 KiB)."""
    message = (file_text or b"")[:MAX_MESSAGE_BYTES].decode(errors="replace").strip()
    if message or exit_code == 0 or policy != "FallbackToLogsOnError":
        return message
    lines = log_tail.splitlines()[-FALLBACK_LOG_LINES:]
    return b"\n".join(lines)[-FALLBACK_LOG_BYTES:].decode(errors="replace").strip()
