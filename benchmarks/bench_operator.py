"""Operator throughput and memory on the real local control plane.

    python -m benchmarks.bench_operator [--count 200] [--memory-count 1000]

Applies N ScheduledJobs at once and measures the time until every CronJob exists and
every ScheduledJob is Ready=True. In the same run, the floor: creating the same N
rendered CronJobs directly with the client. Reports the ratio (operator / floor),
not absolute seconds, because these machines are shared and noisy; also the
operator's resident memory with N and with --memory-count ScheduledJobs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kubernetes import client, config, watch
from scheduledjob_operator.config import load_settings
from scheduledjob_operator.render import render_cronjob
from scheduledjob_operator.spec import parse_spec

from tests.cluster.harness import REPO_ROOT, running_cluster
from tests.support.operator_process import OperatorProcess
from tests.support.scheduledjobs import GROUP, PLURAL, VERSION, scheduledjob

THREADS = 8


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def create_namespace(core: client.CoreV1Api, name: str) -> None:
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))


def is_ready(obj: dict[str, Any]) -> bool:
    status = obj.get("status") or {}
    if status.get("observedGeneration") != obj["metadata"]["generation"]:
        return False
    conds = status.get("conditions") or []
    return any(c["type"] == "Ready" and c["status"] == "True" for c in conds)


def watch_until_ready(
    custom: client.CustomObjectsApi, namespace: str, n: int, started: threading.Event
) -> float:
    """Watch (not poll: polling would load the API server the operator is measured on)
    until n ScheduledJobs are Ready; returns the monotonic time that happened."""
    ready: set[str] = set()
    stream = watch.Watch()
    started.set()
    for event in stream.stream(
        custom.list_namespaced_custom_object, GROUP, VERSION, namespace, PLURAL, timeout_seconds=600
    ):
        obj = event["object"]
        name = obj["metadata"]["name"]
        if event["type"] != "DELETED" and is_ready(obj):
            ready.add(name)
        else:
            ready.discard(name)
        if len(ready) >= n:
            stream.stop()
            return time.monotonic()
    raise SystemExit(f"timed out: only {len(ready)} of {n} ScheduledJobs became Ready")


def count_cronjobs(batch: client.BatchV1Api, namespace: str) -> int:
    response = batch.list_namespaced_cron_job(namespace, _preload_content=False)
    return len(json.loads(response.data)["items"])


def apply_scheduledjobs(custom: client.CustomObjectsApi, namespace: str, names: list[str]) -> None:
    def create(name: str) -> None:
        body = scheduledjob(name, schedule="*/5 * * * *", timeZone="Europe/Berlin")
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(create, names))


def apply_and_wait(
    custom: client.CustomObjectsApi, batch: client.BatchV1Api, namespace: str, names: list[str]
) -> float:
    """Seconds from the first create until every ScheduledJob is Ready."""
    started = threading.Event()
    with ThreadPoolExecutor(1) as waiter:
        done = waiter.submit(watch_until_ready, custom, namespace, len(names), started)
        started.wait()
        time.sleep(0.5)  # the watch's initial list is in
        began = time.monotonic()
        apply_scheduledjobs(custom, namespace, names)
        finished = done.result()
    cronjobs = count_cronjobs(batch, namespace)
    if cronjobs != len(names):
        raise SystemExit(f"{cronjobs} CronJobs for {len(names)} Ready ScheduledJobs")
    return finished - began


def floor_seconds(batch: client.BatchV1Api, namespace: str, n: int) -> float:
    defaults = load_settings().defaults
    bodies: list[dict[str, Any]] = []
    for i in range(n):
        name = f"direct-{i:04d}"
        spec = scheduledjob(name, schedule="*/5 * * * *", timeZone="Europe/Berlin")["spec"]
        bodies.append(render_cronjob(name, namespace, parse_spec(name, spec, defaults), defaults))
    began = time.monotonic()
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(lambda body: batch.create_namespaced_cron_job(namespace, body), bodies))
    return time.monotonic() - began


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--memory-count", type=int, default=1000)
    args = parser.parse_args(argv)
    n, m = args.count, args.memory_count

    with (
        tempfile.TemporaryDirectory(prefix="shopcron-bench-") as tmp,
        running_cluster(Path(tmp) / "cluster") as cluster,
    ):
        kubectl = Path(sys.executable).with_name("kubectl")
        subprocess.run(
            [
                str(kubectl),
                f"--kubeconfig={cluster.kubeconfig}",
                "apply",
                "-k",
                str(REPO_ROOT / "crds"),
            ],
            check=True,
            capture_output=True,
        )
        api = config.new_client_from_config(config_file=str(cluster.kubeconfig))
        api.configuration.connection_pool_maxsize = THREADS * 2
        core, batch = client.CoreV1Api(api), client.BatchV1Api(api)
        custom = client.CustomObjectsApi(api)
        for ns in ("bench-floor", "bench-operator", "bench-memory"):
            create_namespace(core, ns)
        time.sleep(3)  # CRD discovery settles

        floor = floor_seconds(batch, "bench-floor", n)

        # As the operator image runs it (operator/Dockerfile sets MALLOC_ARENA_MAX).
        operator = OperatorProcess(
            cluster.kubeconfig, Path(tmp) / "operator.log", env={"MALLOC_ARENA_MAX": "2"}
        )
        operator.start()
        assert operator.process is not None
        idle_rss = rss_mib(operator.process.pid)
        names = [f"bench-{i:04d}" for i in range(n)]
        cpu_before = cpu_seconds(operator.process.pid)
        through_operator = apply_and_wait(custom, batch, "bench-operator", names)
        operator_cpu = cpu_seconds(operator.process.pid) - cpu_before
        time.sleep(2)
        rss_n = rss_mib(operator.process.pid)

        more = [f"bench-{i:04d}" for i in range(n, m)]
        apply_and_wait(custom, batch, "bench-memory", more)
        time.sleep(2)
        rss_m = rss_mib(operator.process.pid)
        operator.stop()

    rows = [
        (f"floor: create {n} rendered CronJobs directly (s)", f"{floor:.2f}"),
        (f"operator: apply {n} ScheduledJobs -> CronJobs + Ready (s)", f"{through_operator:.2f}"),
        ("ratio operator / floor (target <= 2)", f"{through_operator / floor:.2f}"),
        (f"operator CPU for {n} ScheduledJobs (s)", f"{operator_cpu:.2f}"),
        ("operator RSS idle (MiB)", f"{idle_rss:.1f}"),
        (f"operator RSS with {n} ScheduledJobs (MiB)", f"{rss_n:.1f}"),
        (f"operator RSS with {m} ScheduledJobs (MiB, target <= 150)", f"{rss_m:.1f}"),
    ]
    print()
    print(f"{'measure':60} {'value':>10}")
    print(f"{'-' * 60} {'-' * 10}")
    for label, value in rows:
        print(f"{label:60} {value:>10}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
