"""kopf handlers: the only module that imports kopf.

Reconciliation is level-based: every trigger (create, update, resume, a change to the
owned CronJob) renders the whole desired CronJob and converges the cluster to it.
There is no finalizer: the CronJob carries an owner reference, so deleting a
ScheduledJob never waits for this operator (the garbage collector does the rest).

Run with `kopf run --standalone --all-namespaces -m scheduledjob_operator.handlers`
(or `--namespace=…` repeated to watch a list of namespaces).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

import kopf

from scheduledjob_operator import conditions, plan, runs
from scheduledjob_operator.config import Settings, load_settings
from scheduledjob_operator.kube import Kube, KubeError, load_api_client
from scheduledjob_operator.names import cronjob_name
from scheduledjob_operator.render import render_cronjob
from scheduledjob_operator.schedule import format_rfc3339, next_runs
from scheduledjob_operator.spec import InvalidSpec, ScheduledJobSpec, parse_spec

SJ = ("shopcron.io", "v1alpha1", "scheduledjobs")
MANAGED_BY = {"app.kubernetes.io/managed-by": "shopcron"}


class _Runtime:
    """Process-wide state, set once at start-up (kopf runs one operator per process)."""

    settings: Settings
    kube: Kube
    # Latest body of every ScheduledJob this operator watches, by (namespace, name):
    # the CronJob watcher and the preview refresher read it instead of the API.
    scheduledjobs: dict[tuple[str, str], Mapping[str, Any]]
    # Owned CronJobs as last seen on the watch (or as written), by (namespace, name).
    cronjobs: dict[tuple[str, str], dict[str, Any]]
    # (namespace, CronJob name) -> ScheduledJob name, to find the owner of a run.
    cronjob_owners: dict[tuple[str, str], str]
    # Jobs of each ScheduledJob by (namespace, ScheduledJob name), then by Job name.
    jobs: dict[tuple[str, str], dict[str, Mapping[str, Any]]]
    # The run fields this operator last wrote to each ScheduledJob's status. Only this
    # operator writes them, so its own memory is newer than any watch event in flight.
    run_status: dict[tuple[str, str], dict[str, Any]]
    lock: threading.Lock
    refresher: asyncio.Task[None] | None = None

    def __init__(self) -> None:
        self.scheduledjobs = {}
        self.cronjobs = {}
        self.cronjob_owners = {}
        self.jobs = {}
        self.run_status = {}
        self.lock = threading.Lock()


RUNTIME = _Runtime()


def _as_body(obj: Mapping[str, Any]) -> kopf.Body:
    """kopf's view of a stored body, for owner references and events."""
    return kopf.Body(cast(kopf.RawBody, dict(obj)))


def _now() -> datetime:
    return datetime.now(UTC)


WATCH_HANDLERS = ("track", "watch-owned-cronjobs", "watch-runs")


def _quiet_watchers(record: logging.LogRecord) -> bool:
    """Drop kopf's "Handler 'track' succeeded." lines: the watch handlers run on every
    event and log what matters themselves; warnings and errors still pass."""
    if record.levelno > logging.INFO:
        return True
    message = record.getMessage()
    return not (
        message.endswith(" succeeded.")
        and any(f"Handler '{handler}'" in message for handler in WATCH_HANDLERS)
    )


# ---------------------------------------------------------------------------- start-up
@kopf.on.startup(id="configure")
async def configure(settings: kopf.OperatorSettings, logger: kopf.Logger, **_: Any) -> None:
    try:
        RUNTIME.settings = load_settings()
    except ValueError as exc:
        raise kopf.PermanentError(f"invalid operator setting: {exc}") from None
    RUNTIME.kube = Kube(load_api_client())
    settings.peering.standalone = True  # one replica (Deployment strategy Recreate)
    # No cluster-wide observation of CRDs and namespaces: fewer rights, less traffic.
    settings.scanning.disabled = True
    # kopf's bookkeeping lives in status.kopf (declared in the CRD): the handler's
    # status and kopf's state then go out in one status write per reconcile, and
    # metadata stays free of kopf annotations.
    settings.persistence.progress_storage = kopf.StatusProgressStorage(field="status.kopf.progress")
    settings.persistence.diffbase_storage = kopf.StatusDiffBaseStorage(
        field="status.kopf.last-handled-configuration"
    )
    # Handler log lines stay in the operator log; only warnings become Kubernetes events.
    settings.posting.level = logging.WARNING
    # One access-log line per liveness probe is noise, and so is a success line for
    # every watch event of every ScheduledJob, CronJob and Job.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    logging.getLogger("kopf.objects").addFilter(_quiet_watchers)
    # Watches end server-side every few minutes and are re-established, so a silently
    # broken connection never leaves the operator blind for long.
    settings.watching.server_timeout = 300
    settings.watching.client_timeout = 330
    settings.watching.connect_timeout = 30
    settings.networking.request_timeout = 60
    # Sync handlers (the Kubernetes client blocks) run in this many threads.
    settings.execution.max_workers = 16
    # Events of one object that arrive within this window are handled together; the
    # default (0.1 s) adds latency to every reconcile for little gain here.
    settings.batching.batch_window = 0.02
    RUNTIME.refresher = asyncio.create_task(_refresh_previews_forever())
    logger.info(
        "shopcron operator started; runtime image %s", RUNTIME.settings.defaults.runtime_image
    )


@kopf.on.cleanup(id="stop-refresher")
async def stop_refresher(**_: Any) -> None:
    if RUNTIME.refresher is not None:
        RUNTIME.refresher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await RUNTIME.refresher


# ---------------------------------------------------------------------------- tracking
def _slim(body: Mapping[str, Any]) -> dict[str, Any]:
    """What the watchers need of a ScheduledJob; managedFields, kopf's bookkeeping and
    kubectl's last-applied copy would triple the memory kept per object."""
    meta = body["metadata"]
    annotations = meta.get("annotations") or {}
    status = {k: v for k, v in (body.get("status") or {}).items() if k != "kopf"}
    return {
        "apiVersion": body.get("apiVersion"),
        "kind": body.get("kind"),
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace"),
            "uid": meta.get("uid"),
            "generation": meta.get("generation"),
            "annotations": {k: v for k, v in annotations.items() if k == runs.RUN_NOW_ANNOTATION},
        },
        "spec": body.get("spec") or {},
        "status": status,
    }


@kopf.on.event(*SJ, id="track")
async def track(type: str, body: kopf.Body, namespace: str | None, name: str, **_: Any) -> None:
    assert namespace is not None  # the CRD is namespaced
    key = (namespace, name)
    if type == "DELETED":
        RUNTIME.scheduledjobs.pop(key, None)
        RUNTIME.cronjob_owners.pop((namespace, cronjob_name(name)), None)
        RUNTIME.jobs.pop(key, None)
        RUNTIME.run_status.pop(key, None)
    else:
        RUNTIME.scheduledjobs[key] = _slim(body)
        RUNTIME.cronjob_owners[(namespace, cronjob_name(name))] = name


def _slim_cronjob(body: Mapping[str, Any]) -> dict[str, Any]:
    """What plan_cronjob compares and a replacement needs; not managedFields or status."""
    meta = body["metadata"]
    keep = ("name", "namespace", "uid", "resourceVersion", "labels", "ownerReferences")
    return {
        "metadata": {k: meta[k] for k in keep if k in meta},
        "spec": body.get("spec") or {},
    }


# ---------------------------------------------------------------------------- reconcile
def _preview(parsed: ScheduledJobSpec, now: datetime) -> list[str]:
    if parsed.suspend:
        return []
    times = next_runs(
        parsed.schedule, parsed.time_zone, now, RUNTIME.settings.defaults.preview_count
    )
    return [format_rfc3339(time) for time in times]


def _desired(body: Mapping[str, Any], parsed: ScheduledJobSpec) -> dict[str, Any]:
    meta = body["metadata"]
    desired = render_cronjob(meta["name"], meta["namespace"], parsed, RUNTIME.settings.defaults)
    kopf.append_owner_reference(desired, owner=_as_body(body))
    return desired


def converge(
    body: Mapping[str, Any], parsed: ScheduledJobSpec, seen: Mapping[str, Any] | None = None
) -> tuple[plan.Action, dict[str, Any]]:
    """Bring the owned CronJob in line with `parsed`; returns what was done and the CronJob
    as it now is (or, for FOREIGN and PREVIOUS_OWNER, the one in the way).

    The CronJob as last seen on the watch stands in for a GET: a stale copy only costs
    a 409 and a retry, and a missing one a create that answers 409 if it exists.
    """
    meta = body["metadata"]
    namespace, uid = meta["namespace"], meta["uid"]
    desired = _desired(body, parsed)
    cj_name = desired["metadata"]["name"]
    key = (namespace, cj_name)
    actual = dict(seen) if seen is not None else RUNTIME.cronjobs.get(key)
    if actual is None:
        try:
            created = RUNTIME.kube.create_cronjob(namespace, desired)
        except KubeError as exc:
            if not exc.conflict:
                raise
            actual = RUNTIME.kube.get_cronjob(namespace, cj_name)
            if actual is None:  # created and deleted meanwhile: look again shortly
                raise kopf.TemporaryError("CronJob changed meanwhile", delay=1) from None
        else:
            RUNTIME.cronjobs[key] = _slim_cronjob(created)
            return plan.Action.CREATE, created
    action = plan.plan_cronjob(actual, desired, uid)
    if action is plan.Action.REPLACE:
        try:
            replaced = RUNTIME.kube.replace_cronjob(
                namespace, cj_name, plan.replacement(actual, desired)
            )
        except KubeError as exc:
            if not (exc.conflict or exc.not_found):
                raise
            RUNTIME.cronjobs.pop(key, None)  # our copy was stale: read afresh next time
            raise kopf.TemporaryError("CronJob changed meanwhile; re-checking", delay=1) from None
        RUNTIME.cronjobs[key] = _slim_cronjob(replaced)
        return action, replaced
    return action, actual


def _status(
    body: Mapping[str, Any], *, ready: bool, reason: str, message: str, **fields: Any
) -> dict[str, Any]:
    meta = body["metadata"]
    generation = meta.get("generation")
    existing = (body.get("status") or {}).get("conditions")
    return {
        "observedGeneration": generation,
        "conditions": conditions.set_condition(
            existing,
            type_=conditions.READY,
            status=ready,
            reason=reason,
            message=message,
            generation=generation,
            now=_now(),
        ),
        **fields,
    }


class RetryWithStatus(Exception):
    """Write this status, then let kopf retry after `delay` seconds."""

    def __init__(self, status: dict[str, Any], message: str, delay: float) -> None:
        super().__init__(message)
        self.status = status
        self.delay = delay


def reconcile_scheduledjob(body: Mapping[str, Any]) -> dict[str, Any]:
    """One full pass for one ScheduledJob; returns the status to write, or raises
    RetryWithStatus when the CronJob is in the way and the pass must be repeated."""
    meta = body["metadata"]
    name = meta["name"]
    try:
        parsed = parse_spec(name, body.get("spec") or {}, RUNTIME.settings.defaults)
    except InvalidSpec as exc:
        # Not retried: nothing changes until the user edits the spec. An existing
        # CronJob from an earlier valid spec is left exactly as it was.
        kopf.warn(_as_body(body), reason=conditions.INVALID_SPEC, message=str(exc))
        return _status(body, ready=False, reason=conditions.INVALID_SPEC, message=str(exc))
    try:
        action, cronjob = converge(body, parsed)
    except KubeError as exc:
        raise kopf.TemporaryError(f"Kubernetes API: {exc}", delay=10) from None
    cj_name = cronjob["metadata"]["name"]
    if action is plan.Action.FOREIGN:
        message = (
            f"a CronJob named {cj_name} already exists and is not managed by shopcron; "
            "delete or rename it, or rename this ScheduledJob"
        )
        kopf.warn(_as_body(body), reason=conditions.CRONJOB_CONFLICT, message=message)
        # Checked again periodically so it resolves by itself once the CronJob is gone.
        status = _status(body, ready=False, reason=conditions.CRONJOB_CONFLICT, message=message)
        raise RetryWithStatus(status, message, delay=30)
    if action is plan.Action.PREVIOUS_OWNER:
        message = (
            f"CronJob {cj_name} still belongs to a deleted ScheduledJob of the same name; "
            "waiting for the garbage collector"
        )
        status = _status(body, ready=False, reason=conditions.CRONJOB_CONFLICT, message=message)
        raise RetryWithStatus(status, message, delay=5)
    extra: dict[str, Any] = {}
    run_now = (meta.get("annotations") or {}).get(runs.RUN_NOW_ANNOTATION)
    if run_now and run_now != (body.get("status") or {}).get("lastManualRun"):
        start_manual_run(body, cronjob, run_now)
        extra["lastManualRun"] = run_now
    preview = _preview(parsed, _now())
    if parsed.suspend:
        message = f"CronJob {cj_name} is in sync; suspended, so no runs are scheduled"
    else:
        message = f"CronJob {cj_name} is in sync; next run at {preview[0] if preview else 'never'}"
    return _status(
        body,
        ready=True,
        reason=conditions.RECONCILED,
        message=message,
        cronJobName=cj_name,
        nextScheduleTimes=preview,
        **extra,
    )


def start_manual_run(body: Mapping[str, Any], cronjob: Mapping[str, Any], value: str) -> None:
    """One Job per distinct run-now value: the Job name derives from the value, so a
    repeated event or a restarted operator finds it exists (409) and starts nothing."""
    owner = {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "name": cronjob["metadata"]["name"],
        "uid": cronjob["metadata"]["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }
    job = runs.manual_job(cronjob, value, owner)
    try:
        created = RUNTIME.kube.create_job(body["metadata"]["namespace"], job)
    except KubeError as exc:
        raise kopf.TemporaryError(f"could not start the manual run: {exc}", delay=10) from None
    if created is not None:
        kopf.event(
            _as_body(body),
            type="Normal",
            reason="RunRequested",
            message=f"run-now {value!r}: started Job {job['metadata']['name']}",
        )


@kopf.on.resume(*SJ, id="reconcile-on-resume")
@kopf.on.create(*SJ, id="reconcile-on-create")
@kopf.on.update(*SJ, id="reconcile-on-update")
def reconcile(body: kopf.Body, patch: kopf.Patch, **_: Any) -> None:
    try:
        status = reconcile_scheduledjob(body)
    except RetryWithStatus as retry:
        patch.status.update(retry.status)  # kopf writes the patch before it retries
        raise kopf.TemporaryError(str(retry), delay=retry.delay) from None
    patch.status.update(status)


# ---------------------------------------------------------------------------- owned CronJobs
@kopf.on.event("batch", "v1", "cronjobs", labels=MANAGED_BY, id="watch-owned-cronjobs")
def cronjob_changed(
    type: str, body: kopf.Body, namespace: str | None, logger: kopf.Logger, **_: Any
) -> None:
    """Put back a CronJob that someone else edited or deleted."""
    assert namespace is not None
    key = (namespace, body["metadata"]["name"])
    if type == "DELETED":
        RUNTIME.cronjobs.pop(key, None)
    else:
        RUNTIME.cronjobs[key] = _slim_cronjob(body)
    owner = _owner_of_kind(body, plan.OWNER_KIND)
    if owner is None:
        return
    sj = RUNTIME.scheduledjobs.get((namespace, owner))
    if sj is None or sj["metadata"].get("uid") != plan.owner_uid(body):
        return
    # Only act on a settled ScheduledJob: while a spec change is being reconciled the
    # main handler owns the CronJob, and acting on an older spec would undo its work.
    if (sj.get("status") or {}).get("observedGeneration") != sj["metadata"].get("generation"):
        return
    try:
        parsed = parse_spec(owner, sj.get("spec") or {}, RUNTIME.settings.defaults)
    except InvalidSpec:
        return  # invalid spec: the last valid CronJob stays as it was
    try:
        if type == "DELETED" and RUNTIME.kube.get_scheduledjob(namespace, owner) is None:
            return  # deleted together with its owner (garbage collection)
        action, cronjob = converge(sj, parsed, None if type == "DELETED" else body)
        if type != "DELETED":
            _record_schedule_time(namespace, owner, sj, parsed, body)
    except (KubeError, kopf.TemporaryError) as exc:
        logger.warning("could not restore the CronJob of ScheduledJob %s: %s", owner, exc)
        return
    if action in (plan.Action.CREATE, plan.Action.REPLACE):
        verb = "re-created" if action is plan.Action.CREATE else "restored"
        logger.info(
            "CronJob %s was changed outside shopcron; %s it", cronjob["metadata"]["name"], verb
        )


def _record_schedule_time(
    namespace: str,
    name: str,
    sj: Mapping[str, Any],
    parsed: ScheduledJobSpec,
    cronjob: Mapping[str, Any],
) -> None:
    """Copy the cronjob controller's lastScheduleTime; a run just fired, so the preview
    moves on at the same moment."""
    scheduled = (cronjob.get("status") or {}).get("lastScheduleTime")
    if not scheduled:
        return
    with RUNTIME.lock:
        key = (namespace, name)
        known = RUNTIME.run_status.setdefault(key, dict(sj.get("status") or {}))
        if known.get("lastScheduleTime") == scheduled:
            return
        update = {"lastScheduleTime": scheduled, "nextScheduleTimes": _preview(parsed, _now())}
        RUNTIME.kube.patch_scheduledjob_status(namespace, name, update)
        known.update(update)


# ---------------------------------------------------------------------------- runs
def _owner_of_kind(body: Mapping[str, Any], kind: str) -> str | None:
    ref = plan.controller_ref(body, kind)
    return str(ref["name"]) if ref else None


def _summary(namespace: str, job_name: str) -> str | None:
    """The runtime's one-line summary: the termination message of the Job's last pod."""
    pods = RUNTIME.kube.list_pods(namespace, f"job-name={job_name}")
    pods.sort(key=lambda pod: str(pod["metadata"].get("creationTimestamp") or ""))
    for pod in reversed(pods):
        for container in (pod.get("status") or {}).get("containerStatuses") or ():
            terminated = (container.get("state") or {}).get("terminated") or {}
            message = str(terminated.get("message") or "").strip()
            if message:
                return message.splitlines()[-1][:1024]
    return None


@kopf.on.event("batch", "v1", "jobs", labels=MANAGED_BY, id="watch-runs")
def job_changed(
    type: str, body: kopf.Body, namespace: str | None, name: str, logger: kopf.Logger, **_: Any
) -> None:
    """Report every run (scheduled, run-now or `kubectl create job --from`) on its
    ScheduledJob: last run, active runs, failures in a row, and an event per outcome."""
    assert namespace is not None
    cronjob = _owner_of_kind(body, "CronJob")
    owner = RUNTIME.cronjob_owners.get((namespace, cronjob)) if cronjob else None
    sj = RUNTIME.scheduledjobs.get((namespace, owner)) if owner else None
    if owner is None or sj is None:
        return
    key = (namespace, owner)
    with RUNTIME.lock:
        jobs = RUNTIME.jobs.setdefault(key, {})
        if type == "DELETED":
            jobs.pop(name, None)
        else:
            jobs[name] = dict(body)
        previous = RUNTIME.run_status.setdefault(key, dict(sj.get("status") or {}))
        summaries: dict[str, str] = {}
        try:
            if type != "DELETED" and runs.job_result(body) in runs.TERMINAL:
                summary = _summary(namespace, name)
                if summary:
                    summaries[name] = summary
        except KubeError as exc:  # the outcome still counts, just without its summary
            logger.warning("could not read the summary of run %s: %s", name, exc)
        try:
            update = runs.update_runs(
                previous, jobs.values(), summaries, deleted=name if type == "DELETED" else None
            )
            if not runs.changed(previous, update.status):
                return
            RUNTIME.kube.patch_scheduledjob_status(namespace, owner, update.status)
        except KubeError as exc:
            logger.warning("could not record run %s of ScheduledJob %s: %s", name, owner, exc)
            return
        previous.update(update.status)
    for event in update.events:
        kopf.event(_as_body(sj), type=event.type, reason=event.reason, message=event.message)


# ---------------------------------------------------------------------------- previews
async def _refresh_previews_forever() -> None:
    """Keep status.nextScheduleTimes in the future as time passes (no per-object timers:
    kopf timers would add a finalizer to every ScheduledJob)."""
    interval = RUNTIME.settings.preview_refresh_seconds
    while True:
        await asyncio.sleep(interval)
        try:
            await asyncio.to_thread(refresh_previews, _now())
        except Exception:  # keep refreshing; one bad pass must not end the loop
            logging.getLogger(__name__).exception("refreshing schedule previews failed")


def refresh_previews(now: datetime) -> int:
    """Rewrite the preview of every ScheduledJob whose first previewed run has passed."""
    refreshed = 0
    for (namespace, name), body in list(RUNTIME.scheduledjobs.items()):
        status = body.get("status") or {}
        previews = status.get("nextScheduleTimes") or []
        if not previews or datetime.fromisoformat(previews[0]) > now:
            continue
        try:
            parsed = parse_spec(name, body.get("spec") or {}, RUNTIME.settings.defaults)
        except InvalidSpec:
            continue
        RUNTIME.kube.patch_scheduledjob_status(
            namespace, name, {"nextScheduleTimes": _preview(parsed, now)}
        )
        refreshed += 1
    return refreshed
