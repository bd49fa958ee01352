"""Benchmark: jobs-runtime against the seed's way of publishing drafts.

    python -m benchmarks.bench_runtime [--drafts 5000] [--latency-ms 5]

Both runs publish the same number of drafts on a fresh test product API that
adds ``--latency-ms`` to every request:

* **seed's way**: what the in-process loader job did, over HTTP: list the
  drafts page by page (Medusa's default page of 50), then update one product
  after another;
* **jobs-runtime**: the real console script as a child process, with its
  default settings (v2 batch endpoint, bounded concurrency).

Printed per run: wall time, requests, products/s, the latency floor (the least
time the server's latency allows for that request pattern: latency x requests
that must wait for one another), and the ratio. Also the runtime's peak
resident memory and its start-up time (process start to first request).
Exits 1 if a target is missed: ≥ 10x faster, ≤ 60 MB, ≤ 0.5 s.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
from jobs_runtime.client import auth_headers
from jobs_runtime.config import ApiVersion, Secret, Tuning

from tests.support.product_api import ProductAPI

API_KEY = "sk_bench_runtime_0000"
SEED_PAGE = 50
TARGET_RATIO = 10.0
TARGET_RSS_MB = 60.0
TARGET_STARTUP_S = 0.5


@dataclass
class Measured:
    """One run's figures."""

    name: str
    seconds: float
    requests: int
    published: int
    floor_seconds: float
    peak_rss_mb: float | None = None
    startup_seconds: float | None = None


def seed_way(api: ProductAPI) -> Measured:
    """List every draft (pages of 50), then publish them one after another."""
    headers = {**auth_headers("v2", Secret(API_KEY)), "Accept": "application/json"}
    started = time.monotonic()
    with httpx.Client(base_url=api.url, headers=headers, timeout=30) as client:
        ids: list[str] = []
        offset = 0
        while True:
            page = client.get(
                "/admin/products",
                params=[
                    ("status[]", "draft"),
                    ("limit", str(SEED_PAGE)),
                    ("offset", str(offset)),
                    ("fields", "id"),
                ],
            )
            page.raise_for_status()
            body = page.json()
            ids += [p["id"] for p in body["products"]]
            offset += SEED_PAGE
            if offset >= body["count"]:
                break
        for pid in ids:
            client.post(f"/admin/products/{pid}", json={"status": "published"}).raise_for_status()
    seconds = time.monotonic() - started
    requests = api.total_requests()
    return Measured(
        "seed's way (list, then one by one)",
        seconds,
        requests,
        len(api.ids("published")),
        floor_seconds=requests * api.latency_ms / 1000,  # every request waits for the last
    )


def runtime_command() -> list[str]:
    """The installed console script, or ``python -m jobs_runtime``."""
    script = Path(sys.executable).with_name("jobs-runtime")
    return [str(script)] if script.exists() else [sys.executable, "-m", "jobs_runtime"]


def jobs_runtime(api: ProductAPI, drafts: int, version: ApiVersion) -> Measured:
    """Run the real console script once and measure it from the outside."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SHOPCRON_")},
        "SHOPCRON_JOB_NAME": "bench",
        "SHOPCRON_API_URL": api.url,
        "SHOPCRON_API_VERSION": version,
        "SHOPCRON_API_KEY": API_KEY,
        "SHOPCRON_TERMINATION_MESSAGE_PATH": os.devnull,
    }
    started = time.monotonic()
    process = subprocess.Popen(
        runtime_command(), env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    stderr = process.stderr.read().decode() if process.stderr else ""
    if process.stderr:
        process.stderr.close()
    if process.returncode != 0:
        raise SystemExit(f"jobs-runtime exited {process.returncode}: {stderr}")
    first = api.first_request_at
    return Measured(
        f"jobs-runtime ({version}{', batches' if version == 'v2' else ', per product'})",
        seconds,
        api.total_requests(),
        len(api.ids("published")),
        floor_seconds=runtime_floor(drafts, version) * api.latency_ms / 1000,
        peak_rss_mb=usage.ru_maxrss / 1024,  # Linux reports KiB
        startup_seconds=(first - started) if first is not None else None,
    )


def runtime_floor(drafts: int, version: str) -> int:
    """Requests on the runtime's critical path with default settings.

    First listing page; the other pages ``concurrency`` at a time; the writes
    ``concurrency`` at a time; one last listing that finds nothing.
    """
    tuning = Tuning()
    pages = math.ceil(drafts / tuning.page_size)
    writes = math.ceil(drafts / tuning.batch_size) if version == "v2" else drafts
    return (
        1
        + math.ceil(max(0, pages - 1) / tuning.concurrency)
        + math.ceil(writes / tuning.concurrency)
        + 1
    )


def print_table(rows: list[Measured], baseline: Measured, drafts: int, latency: float) -> None:
    """The comparison table."""
    print(f"\n{drafts} drafts, {latency:g} ms latency per request (test product API)\n")
    header = (
        f"{'run':<38} {'wall s':>8} {'requests':>9} {'products/s':>11} "
        f"{'floor s':>8} {'vs seed':>8} {'peak RSS':>9} {'start-up':>9}"
    )
    print(header)
    print("-" * len(header))
    for row in rows:
        rss = f"{row.peak_rss_mb:.1f} MB" if row.peak_rss_mb is not None else "-"
        startup = f"{row.startup_seconds:.2f} s" if row.startup_seconds is not None else "-"
        print(
            f"{row.name:<38} {row.seconds:>8.2f} {row.requests:>9} "
            f"{row.published / row.seconds:>11.0f} {row.floor_seconds:>8.2f} "
            f"{baseline.seconds / row.seconds:>7.1f}x {rss:>9} {startup:>9}"
        )
    print(
        "\nfloor s: latency x requests that must wait for one another "
        "(the least time this server allows for that request pattern)"
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Run both ways, print the table, check the targets."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_runtime")
    parser.add_argument("--drafts", type=int, default=5000)
    parser.add_argument("--latency-ms", type=float, default=5.0)
    parser.add_argument("--v1", action="store_true", help="also run jobs-runtime against v1")
    args = parser.parse_args(argv)

    rows: list[Measured] = []
    with ProductAPI(drafts=args.drafts, api_key=API_KEY, latency_ms=args.latency_ms) as api:
        print(f"seed's way: publishing {args.drafts} drafts one by one …", flush=True)
        baseline = seed_way(api)
    rows.append(baseline)
    versions: list[ApiVersion] = ["v2", "v1"] if args.v1 else ["v2"]
    for version in versions:
        with ProductAPI(
            drafts=args.drafts, api_key=API_KEY, latency_ms=args.latency_ms, api_version=version
        ) as api:
            print(f"jobs-runtime ({version}) …", flush=True)
            rows.append(jobs_runtime(api, args.drafts, version))

    print_table(rows, baseline, args.drafts, args.latency_ms)
    runtime = rows[1]
    checks = [
        (
            f"≥ {TARGET_RATIO:g}x faster than the seed's way",
            baseline.seconds / runtime.seconds >= TARGET_RATIO,
        ),
        (
            f"peak RSS ≤ {TARGET_RSS_MB:g} MB",
            runtime.peak_rss_mb is not None and runtime.peak_rss_mb <= TARGET_RSS_MB,
        ),
        (
            f"start-up to first request ≤ {TARGET_STARTUP_S:g} s",
            runtime.startup_seconds is not None and runtime.startup_seconds <= TARGET_STARTUP_S,
        ),
        ("every draft published", all(r.published == args.drafts for r in rows)),
    ]
    print()
    for label, ok in checks:
        print(f"  {'PASS' if ok else 'FAIL'}  {label}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
