"""The pod status the local node writes, and the kubelet's termination-message rule."""

from __future__ import annotations

from typing import Any

from tests.cluster.logserver import tail_lines
from tests.cluster.podstatus import (
    merge_conditions,
    running_status,
    terminated_status,
    termination_message,
    unschedulable_status,
    waiting_status,
)

T0, T1, T2 = "2026-01-01T00:00:00Z", "2026-01-01T00:00:05Z", "2026-01-01T00:00:09Z"
POD: dict[str, Any] = {
    "metadata": {"name": "p", "namespace": "n", "uid": "u"},
    "spec": {"containers": [{"name": "jobs-runtime", "image": "shopcron/jobs-runtime:dev"}]},
    "status": {
        "phase": "Pending",
        "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": T0}],
    },
}


def conditions(status: dict[str, Any]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in status["conditions"]}


def test_merge_conditions_keeps_transition_time_when_status_is_unchanged() -> None:
    existing = [
        {"type": "Ready", "status": "True", "lastTransitionTime": T0},
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": T0},
    ]
    merged = merge_conditions(
        existing,
        [{"type": "Ready", "status": "False"}, {"type": "PodScheduled", "status": "True"}],
        T1,
    )
    by_type = {c["type"]: c for c in merged}
    assert by_type["Ready"]["lastTransitionTime"] == T1
    assert by_type["PodScheduled"]["lastTransitionTime"] == T0
    added = merge_conditions([], [{"type": "Initialized", "status": "True"}], T2)
    assert added == [
        {"type": "Initialized", "status": "True", "lastTransitionTime": T2, "lastProbeTime": None}
    ]


def test_running_status() -> None:
    status = running_status(POD, 4242, T1, T1)
    assert status["phase"] == "Running"
    assert status["startTime"] == T1
    assert status["podIP"] == "127.0.0.1"
    assert conditions(status) == {
        "PodScheduled": "True",
        "PodReadyToStartContainers": "True",
        "Initialized": "True",
        "Ready": "True",
        "ContainersReady": "True",
    }
    (container,) = status["containerStatuses"]
    assert container["state"] == {"running": {"startedAt": T1}}
    assert container["containerID"] == "local://4242"
    assert (container["name"], container["ready"], container["restartCount"]) == (
        "jobs-runtime",
        True,
        0,
    )


def test_terminated_status_success_and_failure() -> None:
    running = {**POD, "status": running_status(POD, 7, T1, T1)}
    ok = terminated_status(
        running, exit_code=0, started_at=T1, finished_at=T2, message="done", pid=7
    )
    assert ok["phase"] == "Succeeded"
    assert ok["startTime"] == T1
    assert ok["containerStatuses"][0]["state"] == {
        "terminated": {
            "exitCode": 0,
            "reason": "Completed",
            "startedAt": T1,
            "finishedAt": T2,
            "message": "done",
            "containerID": "local://7",
        }
    }
    assert conditions(ok)["Ready"] == "False"
    assert "reason" not in ok
    failed = terminated_status(
        running,
        exit_code=143,
        started_at=T1,
        finished_at=T2,
        message="",
        pod_reason="DeadlineExceeded",
    )
    assert failed["phase"] == "Failed"
    terminated = failed["containerStatuses"][0]["state"]["terminated"]
    assert (terminated["reason"], "message" in terminated) == ("Error", False)
    assert failed["reason"] == "DeadlineExceeded"


def test_waiting_and_unschedulable_statuses() -> None:
    waiting = waiting_status(POD, "CreateContainerConfigError", 'secret "x" not found', T1)
    assert waiting["phase"] == "Pending"
    assert waiting["containerStatuses"][0]["state"] == {
        "waiting": {"reason": "CreateContainerConfigError", "message": 'secret "x" not found'}
    }
    unschedulable = unschedulable_status(POD, "cannot run image", T1)
    (cond,) = unschedulable["conditions"]
    assert (cond["status"], cond["reason"], cond["message"]) == (
        "False",
        "Unschedulable",
        "cannot run image",
    )
    assert "phase" not in unschedulable


def test_termination_message_prefers_the_file() -> None:
    assert (
        termination_message(b"published=3\n", b"log", exit_code=0, policy="File") == "published=3"
    )
    big = b"x" * 5000
    assert len(termination_message(big, b"", exit_code=1, policy="File")) == 4096


def test_termination_message_falls_back_to_the_log_tail_only_on_failure() -> None:
    log = b"".join(f"line {i}\n".encode() for i in range(200))
    fallback = "FallbackToLogsOnError"
    assert termination_message(None, log, exit_code=0, policy=fallback) == ""
    assert termination_message(b"", log, exit_code=1, policy="File") == ""
    message = termination_message(b"", log, exit_code=1, policy=fallback)
    assert message.splitlines()[-1] == "line 199"
    assert len(message.splitlines()) == 80
    huge = b"y" * 3000 + b"\n"
    assert len(termination_message(None, huge, exit_code=2, policy=fallback)) == 2048


def test_tail_lines() -> None:
    data = b"a\nb\nc\n"
    assert tail_lines(data, -1) == data
    assert tail_lines(data, 2) == b"b\nc\n"
    assert tail_lines(data, 0) == b""
    assert tail_lines(data, 10) == data
