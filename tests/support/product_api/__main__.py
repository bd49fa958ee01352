"""Run the test product API from the command line until SIGTERM/SIGINT.

    python -m tests.support.product_api --port 0 --drafts 25 --api-key sk_demo_x

Prints ``product API listening on http://HOST:PORT[PREFIX]`` once it accepts
connections (and writes the port to ``--port-file`` if given), so scripts can
wait for that line or file.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import threading
from collections.abc import Sequence
from types import FrameType

from tests.support.product_api.server import DEFAULT_API_KEY, Fault, ProductAPI


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m tests.support.product_api",
        description="Serve a Medusa-like admin product API seeded with draft products.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--drafts", type=int, default=25, help="draft products to seed")
    parser.add_argument("--published", type=int, default=0, help="published products to seed")
    parser.add_argument(
        "--api-key", default=DEFAULT_API_KEY, help="the accepted key (v2: sk_…; v1: API token)"
    )
    parser.add_argument("--api-version", choices=("v2", "v1"), default="v2")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="added to every request")
    parser.add_argument("--prefix", default="", help="serve the API under this path prefix")
    parser.add_argument("--port-file", help="write the bound port to this file")
    parser.add_argument(
        "--fail-first",
        type=int,
        default=0,
        metavar="N",
        help="answer the first N API requests with 503 (to watch the runtime retry)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM or SIGINT; return the exit code."""
    args = parse_args(argv)
    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    api = ProductAPI(
        drafts=args.drafts,
        published=args.published,
        api_key=args.api_key,
        api_version=args.api_version,
        host=args.host,
        port=args.port,
        latency_ms=args.latency_ms,
        prefix=args.prefix,
    )
    if args.fail_first:
        api.inject(Fault("status", count=args.fail_first, status=503))
    with api:
        if args.port_file:
            _write_atomically(args.port_file, f"{api.port}\n")
        print(f"product API listening on {api.url}", flush=True)
        while not stop.wait(0.5):
            pass
    return 0


def _write_atomically(path: str, text: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".port-")
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.replace(tmp, path)


if __name__ == "__main__":
    sys.exit(main())
