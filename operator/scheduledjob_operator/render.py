"""The batch/v1 CronJob a ScheduledJob stands for, and whether an existing one drifted.

Every field of the CronJob comes from `render_cronjob`; the kopf layer only adds the
owner reference and sends it. The output is a plain, deterministic dict (same spec,
same dict), so reconciling is a comparison and unit tests need no cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from scheduledjob_operator import names, quantity
from scheduledjob_operator.spec import Defaults, ScheduledJobSpec

__all__ = [
    "CONFIG_ERROR_EXIT_CODE",
    "CONTAINER_NAME",
    "LABEL_SCHEDULEDJOB",
    "MANAGED_BY",
    "cronjob_name",
    "desired_differs",
    "drift",
    "labels_for",
    "render_cronjob",
]

MANAGED_BY = "shopcron"
LABEL_SCHEDULEDJOB = "shopcron.io/scheduledjob"
LABEL_HANDLER = "shopcron.io/handler"
CONTAINER_NAME = "jobs-runtime"
RUNTIME_COMMAND = ("jobs-runtime",)
RUN_AS = 65532  # the conventional "nonroot" user of distroless images
#: jobs-runtime exits 2 on a configuration error (jobs_runtime.errors.ExitCode);
#: retrying cannot fix that, so the Job fails at once instead of using its backoffLimit.
CONFIG_ERROR_EXIT_CODE = 2
TMP_SIZE_LIMIT = "64Mi"

cronjob_name = names.cronjob_name


def labels_for(scheduledjob_name: str, handler: str) -> dict[str, str]:
    """The labels on the CronJob, its Jobs and their Pods (select with LABEL_SCHEDULEDJOB)."""
    return {
        "app.kubernetes.io/name": "shopcron-job",
        "app.kubernetes.io/managed-by": MANAGED_BY,
        LABEL_SCHEDULEDJOB: names.label_value(scheduledjob_name),
        LABEL_HANDLER: handler,
    }


def _env(spec: ScheduledJobSpec) -> list[dict[str, Any]]:
    """DESIGN §4's contract first, then the user's template.env (never the credential
    inline: it comes from the Secret at pod start)."""
    env: list[dict[str, Any]] = [
        {"name": "SHOPCRON_JOB_NAME", "value": spec.job_name},
        {"name": "SHOPCRON_HANDLER", "value": spec.handler},
        {"name": "SHOPCRON_DATA", "value": spec.data_json},
        {"name": "SHOPCRON_API_URL", "value": spec.api_url},
        {"name": "SHOPCRON_API_VERSION", "value": spec.api_version},
        {"name": "SHOPCRON_DRY_RUN", "value": "true" if spec.dry_run else "false"},
        {
            "name": "SHOPCRON_API_KEY",
            "valueFrom": {
                "secretKeyRef": {
                    "name": spec.credentials_secret_name,
                    "key": spec.credentials_secret_key,
                }
            },
        },
    ]
    env.extend(dict(var) for var in spec.env)
    return env


TERMINATION_GRACE_SECONDS = 45


def _pod_spec(spec: ScheduledJobSpec) -> dict[str, Any]:
    container: dict[str, Any] = {
        "name": CONTAINER_NAME,
        "image": spec.image,
        "imagePullPolicy": spec.image_pull_policy,
        "command": list(RUNTIME_COMMAND),
        "env": _env(spec),
        "resources": {kind: dict(values) for kind, values in spec.resources.items()},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "terminationMessagePath": "/dev/termination-log",
        # The runtime writes a summary there; if it dies before that, the log tail is used.
        "terminationMessagePolicy": "FallbackToLogsOnError",
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 - a private emptyDir
    }
    pod: dict[str, Any] = {
        "restartPolicy": "Never",
        # Longer than the runtime's request timeout (SHOPCRON_TIMEOUT_SECONDS, 30 s), so
        # the requests in flight at SIGTERM finish before the SIGKILL.
        "terminationGracePeriodSeconds": TERMINATION_GRACE_SECONDS,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [container],
        "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": TMP_SIZE_LIMIT}}],
    }
    if spec.service_account_name:
        pod["serviceAccountName"] = spec.service_account_name
    if spec.node_selector:
        pod["nodeSelector"] = dict(sorted(spec.node_selector.items()))
    if spec.tolerations:
        pod["tolerations"] = [dict(t) for t in spec.tolerations]
    if spec.image_pull_secrets:
        pod["imagePullSecrets"] = [{"name": secret} for secret in spec.image_pull_secrets]
    return pod


def _job_spec(spec: ScheduledJobSpec, labels: Mapping[str, str]) -> dict[str, Any]:
    job: dict[str, Any] = {"backoffLimit": spec.backoff_limit}
    if spec.active_deadline_seconds is not None:
        job["activeDeadlineSeconds"] = spec.active_deadline_seconds
    if spec.ttl_seconds_after_finished is not None:
        job["ttlSecondsAfterFinished"] = spec.ttl_seconds_after_finished
    job["podFailurePolicy"] = {
        "rules": [
            {
                "action": "FailJob",
                "onExitCodes": {
                    "containerName": CONTAINER_NAME,
                    "operator": "In",
                    "values": [CONFIG_ERROR_EXIT_CODE],
                },
            },
            # An evicted or preempted pod is not the job's fault: retry without
            # spending backoffLimit.
            {
                "action": "Ignore",
                "onPodConditions": [{"type": "DisruptionTarget", "status": "True"}],
            },
        ]
    }
    job["template"] = {"metadata": {"labels": dict(labels)}, "spec": _pod_spec(spec)}
    return job


def render_cronjob(
    name: str, namespace: str, spec: ScheduledJobSpec, defaults: Defaults
) -> dict[str, Any]:
    """The complete CronJob for ScheduledJob `namespace/name`, without ownerReferences.

    `defaults` is accepted for the operator-wide settings that are not per-spec; every
    default a spec can override is already resolved in `spec` by parse_spec.
    """
    del defaults  # resolved into `spec` by parse_spec; kept for a stable signature
    labels = labels_for(name, spec.handler)
    cron_spec: dict[str, Any] = {
        "schedule": spec.schedule,
        "timeZone": spec.time_zone,
        "suspend": spec.suspend,
        "concurrencyPolicy": spec.concurrency_policy,
        "successfulJobsHistoryLimit": spec.successful_jobs_history_limit,
        "failedJobsHistoryLimit": spec.failed_jobs_history_limit,
    }
    if spec.starting_deadline_seconds is not None:
        cron_spec["startingDeadlineSeconds"] = spec.starting_deadline_seconds
    cron_spec["jobTemplate"] = {
        "metadata": {"labels": dict(labels)},
        "spec": _job_spec(spec, labels),
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": {"name": cronjob_name(name), "namespace": namespace, "labels": labels},
        "spec": cron_spec,
    }


# ---------------------------------------------------------------------------
# Drift: compare what we render against what the API server returns.

_CRON = ("spec",)
_JOB = (*_CRON, "jobTemplate", "spec")
_POD = (*_JOB, "template", "spec")
_CONTAINER = (*_POD, "containers", "*")

# Objects whose every key is ours: a key someone added there is drift, because the
# API server adds no defaults inside them.
_EXACT_KEYS = (
    (*_POD, "nodeSelector"),
    (*_POD, "securityContext"),
    (*_POD, "securityContext", "seccompProfile"),
    (*_CONTAINER, "securityContext"),
    (*_CONTAINER, "securityContext", "capabilities"),
    (*_CONTAINER, "resources"),
    (*_CONTAINER, "resources", "requests"),
    (*_CONTAINER, "resources", "limits"),
)
# Fields rendered only when the spec sets them: still present after the user removed
# them from the spec is drift (the server never defaults them in a CronJob).
_OPTIONAL_KEYS: dict[tuple[str, ...], tuple[str, ...]] = {
    _CRON: ("startingDeadlineSeconds",),
    _JOB: ("activeDeadlineSeconds", "ttlSecondsAfterFinished"),
    _POD: ("serviceAccountName", "nodeSelector", "tolerations", "imagePullSecrets"),
}
# The server stores quantities in canonical form ("0.5" comes back as "500m").
_QUANTITIES = (
    (*_CONTAINER, "resources", "requests", "*"),
    (*_CONTAINER, "resources", "limits", "*"),
    (*_CONTAINER, "env", "*", "valueFrom", "resourceFieldRef", "divisor"),
    (*_POD, "volumes", "*", "emptyDir", "sizeLimit"),
)


def _matches(path: Sequence[str], pattern: Sequence[str]) -> bool:
    return len(path) == len(pattern) and all(
        want in ("*", have) for want, have in zip(pattern, path, strict=True)
    )


def drift(actual: Any, desired: Any, path: tuple[str, ...] = ()) -> list[str]:
    """The paths where `actual` no longer carries what `desired` renders.

    Only what `desired` sets is compared, so the API server's defaults (dnsPolicy,
    schedulerName, terminationGracePeriodSeconds, fieldRef apiVersion, ...) never
    count; lists must match item by item; objects that are wholly ours (nodeSelector,
    resources, securityContexts) must not gain keys, and optional fields we no longer
    render must be gone; resource quantities compare by value.
    """
    where = ".".join(path) or "<root>"
    if any(_matches(path, q) for q in _QUANTITIES):
        return [] if quantity.same_quantity(actual, desired) else [where]
    if isinstance(desired, Mapping):
        if not isinstance(actual, Mapping):
            return [where]
        found: list[str] = []
        extra: Sequence[str] = ()
        if any(_matches(path, exact) for exact in _EXACT_KEYS):
            extra = list(actual)
        else:
            extra = next((keys for p, keys in _OPTIONAL_KEYS.items() if _matches(path, p)), ())
        found.extend(
            f"{where}.{key}"
            for key in extra
            if key not in desired and actual.get(key) not in (None, "", [], {})
        )
        for key, want in desired.items():
            if key not in actual:
                found.append(f"{where}.{key}")
            else:
                found.extend(drift(actual[key], want, (*path, str(key))))
        return found
    if isinstance(desired, list | tuple):
        if not isinstance(actual, list | tuple) or len(actual) != len(desired):
            return [where]
        found = []
        for index, (have, want) in enumerate(zip(actual, desired, strict=True)):
            found.extend(drift(have, want, (*path, str(index))))
        return found
    if isinstance(desired, bool) or isinstance(actual, bool):
        return [] if actual is desired else [where]
    return [] if actual == desired else [where]


def desired_differs(actual: Mapping[str, Any], desired: Mapping[str, Any]) -> bool:
    """Whether the CronJob must be replaced: its labels or spec lost what we render.

    Metadata other than labels (owner references, annotations others add, the
    server's bookkeeping) and status are not compared.
    """
    return bool(
        drift(actual.get("metadata", {}).get("labels"), desired["metadata"]["labels"], ("labels",))
        or drift(actual.get("spec"), desired["spec"], ("spec",))
    )
