"""`make demo`: the main job, end to end, on the local control plane.

1. start the local cluster and its node agent (or reuse the running one);
2. install the CRD (`kubectl apply -k crds`);
3. start the product API test server with 25 draft products and a fresh demo key;
4. create the credential Secret `shopcron-backend` from that key (never printed);
5. run the operator (`kopf run -m scheduledjob_operator.handlers`), its default
   backend URL pointed at the test server;
6. apply the sample ScheduledJob (`kubectl apply -k manifests/samples`), wait for
   its CronJob;
7. start a run at once, as a user would: `kubectl create job --from=cronjob/...`;
8. show the pod's log while it runs, then the products before and after;
9. say where to look next, and stop what it started: the operator and the test
   server always, the cluster too unless KEEP=1 (or --keep) — a cluster that was
   already running before the demo is left running.

Exit code 0 when every draft was published.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from tests.cluster.harness import DEFAULT_BINARY, LocalCluster  # noqa: E402
from tests.cluster.node import LocalNode  # noqa: E402
from tests.support.operator_process import OperatorProcess  # noqa: E402
from tests.support.product_api.server import ProductAPI  # noqa: E402

CLUSTER_DIR = REPO_ROOT / ".cluster"
NAMESPACE = "default"
SJ_NAME = "publish-products"
DRAFTS = 25
BIN = Path(sys.executable).parent
KUBECTL = BIN / "kubectl"


class DemoError(Exception):
    """Something the user can fix; printed without a stack trace."""


def step(text: str) -> None:
    print(f"\n==> {text}", flush=True)


def info(text: str) -> None:
    print(f"    {text}", flush=True)


def kubectl(*args: str, stdin: str | None = None, check: bool = True) -> str:
    result = subprocess.run(
        [str(KUBECTL), f"--kubeconfig={CLUSTER_DIR / 'kubeconfig'}", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO_ROOT,
    )
    if check and result.returncode != 0:
        raise DemoError(f"kubectl {' '.join(args)} failed:\n{result.stderr.strip()}")
    return result.stdout


def kubectl_json(*args: str) -> dict[str, Any]:
    out = kubectl(*args, "-o", "json", check=False)
    if not out.strip():
        return {}
    data: dict[str, Any] = json.loads(out)
    return data


def wait(what: str, probe: Any, timeout: float, interval: float = 0.5) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise DemoError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


# ---------------------------------------------------------------------- steps
def check_prerequisites() -> None:
    if not KUBECTL.exists():
        raise DemoError(f"{KUBECTL} is missing; run `make venv` (or `make demo`)")
    if not DEFAULT_BINARY.exists():
        raise DemoError(
            f"{DEFAULT_BINARY.relative_to(REPO_ROOT)} is missing; run `make k8s-bin` (needs Go "
            "1.26+; the first build takes 10-25 minutes) or simply `make demo`"
        )


def start_cluster() -> tuple[LocalCluster, bool]:
    """The running cluster of .cluster/ (with its node), or a new one. True if we started it."""
    existing = LocalCluster.from_state(CLUSTER_DIR)
    if existing is not None and {"etcd", "kube-apiserver", "kube-controller-manager"} <= set(
        existing.running_pids()
    ):
        info(f"reusing the running local cluster ({existing.server})")
        if "node" not in existing.running_pids():
            info("starting its node agent")
            existing.start_node()
        return existing, False
    began = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "tests.cluster", "up", "--dir", str(CLUSTER_DIR)],
        cwd=REPO_ROOT,
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise DemoError(f"the local cluster did not start:\n{result.stderr.strip()}")
    cluster = LocalCluster.from_state(CLUSTER_DIR)
    if cluster is None:
        raise DemoError("the local cluster started but wrote no state file")
    info(f"control plane + node agent up in {time.monotonic() - began:.1f}s ({cluster.server})")
    return cluster, True


def install_crd() -> None:
    kubectl("apply", "-k", "crds")
    kubectl("wait", "--for=condition=Established", "crd/scheduledjobs.shopcron.io", "--timeout=30s")
    info("CustomResourceDefinition scheduledjobs.shopcron.io established")


def apply_secret(key: str) -> None:
    """The key goes through stdin, never onto a command line or the terminal."""
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "shopcron-backend", "namespace": NAMESPACE},
        "type": "Opaque",
        "stringData": {"apiKey": key},
    }
    kubectl("apply", "-f", "-", stdin=json.dumps(secret))
    info(f"Secret {NAMESPACE}/shopcron-backend (key apiKey) holds the demo key (not shown)")


def cronjob_api_url() -> str | None:
    cronjob = kubectl_json("get", "cronjob", SJ_NAME, "-n", NAMESPACE)
    try:
        pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        env = pod["containers"][0]["env"]
    except (KeyError, IndexError):
        return None
    for var in env:
        if var.get("name") == "SHOPCRON_API_URL":
            return str(var.get("value"))
    return None


def products(api: ProductAPI) -> dict[str, Any]:
    with urllib.request.urlopen(f"{api.root_url}/_test/state", timeout=5) as resp:  # noqa: S310
        state: dict[str, Any] = json.load(resp)
    return state


def show_products(label: str, state: dict[str, Any]) -> None:
    info(f"{label}: {state['draft']} draft, {state['published']} published")
    sample = state["products"][:3]
    shown = ", ".join(f"{p['title']} ({p['status']})" for p in sample)
    info(f"  e.g. {shown}, ...")


def job_result(job: str) -> str | None:
    status = kubectl_json("get", "job", job, "-n", NAMESPACE).get("status", {})
    for cond in status.get("conditions", []) or []:
        if cond.get("type") in ("Complete", "Failed") and cond.get("status") == "True":
            return str(cond["type"])
    return None


def job_pods(job: str) -> list[dict[str, Any]]:
    listing = kubectl_json("get", "pods", "-n", NAMESPACE, "-l", f"job-name={job}")
    items: list[dict[str, Any]] = listing.get("items", [])
    return sorted(items, key=lambda p: p["metadata"]["creationTimestamp"])


def follow_run(job: str, node: LocalNode, timeout: float = 180.0) -> str:
    """Print each pod's log as it is written, until the Job is Complete or Failed."""
    deadline = time.monotonic() + timeout
    offsets: dict[str, int] = {}
    announced: set[str] = set()
    result: str | None = None
    while True:
        result = job_result(job)
        for pod in job_pods(job):
            name = pod["metadata"]["name"]
            path = node.pod_log(NAMESPACE, name)
            if not path.exists():
                continue
            if name not in announced:
                announced.add(name)
                info(f"pod {name} is running on {node.name}; its log: {path}")
                info(f"(follow it with `tail -f {path}` or `kubectl logs -f {name}`)")
            with path.open("rb") as handle:
                handle.seek(offsets.get(name, 0))
                data = handle.read()
            complete = data[: data.rfind(b"\n") + 1]
            offsets[name] = offsets.get(name, 0) + len(complete)
            for line in complete.decode(errors="replace").splitlines():
                print(f"    | {line}", flush=True)
        if result is not None:
            return result
        if time.monotonic() > deadline:
            raise DemoError(f"job {job} did not finish within {timeout:.0f}s")
        time.sleep(0.3)


def show_scheduledjob() -> None:
    """`kubectl get sj` once the operator has recorded the run (if it does, within 10 s)."""

    def recorded() -> bool:
        status = kubectl_json("get", "sj", SJ_NAME, "-n", NAMESPACE).get("status", {})
        return (status.get("lastRun") or {}).get("result") in ("Succeeded", "Failed")

    step(f"The ScheduledJob after the run (kubectl get sj {SJ_NAME})")
    deadline = time.monotonic() + 10
    while not recorded() and time.monotonic() < deadline:
        time.sleep(0.5)
    print(kubectl("get", "sj", SJ_NAME, "-n", NAMESPACE).rstrip(), flush=True)


def next_steps(job: str, node: LocalNode, *, cluster_stays: bool) -> None:
    def rel(path: Path) -> str:
        return str(path.relative_to(REPO_ROOT))

    step("Where to look next")
    if not cluster_stays:
        info("The cluster stops at the end of this demo: run `make demo KEEP=1` to keep it (and")
        info("its node agent) running for these commands; `make cluster-down` stops it later.")
        info(f"The pod's log file stays in {rel(node.state_dir / 'pods')}/ until the next start.")
    lines = [
        ("export KUBECONFIG=$PWD/" + rel(CLUSTER_DIR / "kubeconfig"), ""),
        (".venv/bin/kubectl get sj", "schedule, next run, last result"),
        (f".venv/bin/kubectl describe sj {SJ_NAME}", "status and events"),
        (".venv/bin/kubectl get cronjobs,jobs,pods", ""),
        (f".venv/bin/kubectl logs job/{job}", "the run's log, via the node agent"),
        (f"ls {rel(node.state_dir / 'pods')}/", "every pod's log file (tail -f while it runs)"),
        (rel(node.agent_log), "the node agent's log"),
        (rel(CLUSTER_DIR / "logs" / "operator.log"), "the operator's log"),
    ]
    for command, comment in lines:
        print(f"    {command:<58} {'# ' + comment if comment else ''}".rstrip(), flush=True)


# ---------------------------------------------------------------------- main
def run(keep: bool) -> int:
    started_cluster = False
    cluster: LocalCluster | None = None
    operator: OperatorProcess | None = None
    api: ProductAPI | None = None
    try:
        check_prerequisites()
        step("Local cluster (etcd, kube-apiserver, kube-controller-manager) and node agent")
        cluster, started_cluster = start_cluster()
        node = LocalNode(CLUSTER_DIR)

        step("ScheduledJob CRD")
        install_crd()

        step(f"Product API test server with {DRAFTS} draft products")
        key = f"sk_demo_{secrets.token_hex(12)}"
        api = ProductAPI(drafts=DRAFTS, api_key=key, api_version="v2").start()
        info(f"listening on {api.url} (Medusa v2 admin API; a fresh demo key for this run)")
        apply_secret(key)

        step("Operator (kopf run -m scheduledjob_operator.handlers)")
        log_path = CLUSTER_DIR / "logs" / "operator.log"
        operator = OperatorProcess(
            kubeconfig=CLUSTER_DIR / "kubeconfig",
            log_path=log_path,
            env={"SHOPCRON_DEFAULT_API_URL": api.url},
        )
        try:
            operator.start()
        except RuntimeError as exc:
            raise DemoError(f"the operator did not start: {exc}") from exc
        info(f"running (pid {operator.process.pid if operator.process else '?'}); log: {log_path}")
        info(f"its default product API URL: {api.url}")

        step(f"Sample ScheduledJob {SJ_NAME} (manifests/samples)")
        print(kubectl("apply", "-n", NAMESPACE, "-k", "manifests/samples").rstrip(), flush=True)
        wait(
            f"the operator to render CronJob {SJ_NAME} for {api.url} (see {log_path})",
            lambda: cronjob_api_url() == api.url,
            timeout=60,
        )
        print(kubectl("get", "sj,cronjobs", "-n", NAMESPACE).rstrip(), flush=True)

        before = products(api)
        step("Products before the run")
        show_products("before", before)

        job = f"{SJ_NAME}-demo-{time.strftime('%Y%m%d-%H%M%S')}"
        step(f"Run now: kubectl create job --from=cronjob/{SJ_NAME} {job}")
        print(kubectl("create", "job", f"--from=cronjob/{SJ_NAME}", job, "-n", NAMESPACE).rstrip())
        result = follow_run(job, node)
        print(kubectl("get", "job", job, "-n", NAMESPACE).rstrip(), flush=True)

        after = products(api)
        step("Products after the run")
        show_products("after", after)
        show_scheduledjob()
        next_steps(job, node, cluster_stays=keep or not started_cluster)
        if result != "Complete" or after["draft"] != 0:
            print(
                f"\nerror: job {job} ended {result} with {after['draft']} drafts left",
                file=sys.stderr,
            )
            return 1
        print(f"\nDone: job {job} published all {before['draft']} drafts.", flush=True)
        return 0
    except DemoError as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        step("Cleaning up")
        if operator is not None:
            operator.stop()
            info("operator stopped")
        if api is not None:
            api.close()
            info("product API test server stopped")
        if cluster is not None and started_cluster and not keep:
            cluster.stop()
            info("local cluster stopped (KEEP=1 keeps it running; `make cluster-down` stops it)")
        elif cluster is not None:
            info("local cluster left running; `make cluster-down` stops it")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/demo.py", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--keep",
        action="store_true",
        default=os.environ.get("KEEP", "") not in ("", "0"),
        help="leave the local cluster running at the end (also: KEEP=1)",
    )
    args = parser.parse_args(argv)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    return run(keep=args.keep)


if __name__ == "__main__":
    raise SystemExit(main())
