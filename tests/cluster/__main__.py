"""`python -m tests.cluster up|down|status --dir .cluster`: the local cluster for humans.

`up` starts the control plane detached, writes DIR/kubeconfig and prints the
`export KUBECONFIG=…` line; `down` stops exactly the processes `up` recorded.
`up` also starts the local node agent (tests/cluster/node.py), which runs shopcron's
pods as local processes and keeps their logs in DIR/pods/ (`--no-node` skips it).
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from tests.cluster.harness import DEFAULT_BINARY, ClusterError, LocalCluster


def up(directory: Path, binary: Path, *, node: bool = True) -> int:
    existing = LocalCluster.from_state(directory)
    if existing is not None and existing.running_pids():
        print(f"local cluster already running ({existing.server})")
        print(f"export KUBECONFIG={existing.kubeconfig}")
        return 0
    if existing is not None:  # stale state from a crash or reboot: start clean
        existing.stop()
    for stale in ("etcd", "pki", "logs", "pods", "node-pki"):
        shutil.rmtree(directory / stale, ignore_errors=True)
    cluster = LocalCluster(directory=directory, binary=binary, detached=True, with_node=node)
    try:
        cluster.start()
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"local cluster ready at {cluster.server} in {cluster.started_in:.1f}s")
    print(f"logs: {cluster.log_dir}/")
    if node:
        print(
            f"local node agent ready in {cluster.node_started_in:.1f}s: shopcron's pods run as "
            f"local processes; their logs: {directory / 'pods'}/<namespace>_<pod>.log"
        )
    print(f"export KUBECONFIG={cluster.kubeconfig}")
    return 0


def down(directory: Path) -> int:
    cluster = LocalCluster.from_state(directory)
    if cluster is None:
        print("local cluster is not running")
        return 0
    running = cluster.running_pids()
    cluster.stop()
    print(f"stopped {', '.join(running) or 'nothing (already gone)'}")
    return 0


def status(directory: Path) -> int:
    cluster = LocalCluster.from_state(directory)
    running = cluster.running_pids() if cluster else {}
    if cluster is None or not running:
        print("local cluster is not running")
        return 1
    for name, pid in running.items():
        print(f"{name}: pid {pid}")
    print(f"export KUBECONFIG={cluster.kubeconfig}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.cluster", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status"])
    parser.add_argument("--dir", type=Path, default=Path(".cluster"))
    parser.add_argument("--binary", type=Path, default=DEFAULT_BINARY)
    parser.add_argument("--no-node", action="store_true", help="up: do not start the node agent")
    args = parser.parse_args(argv)
    directory: Path = args.dir.resolve()
    if args.command == "up":
        return up(directory, args.binary.resolve(), node=not args.no_node)
    if args.command == "down":
        return down(directory)
    return status(directory)


if __name__ == "__main__":
    raise SystemExit(main())
