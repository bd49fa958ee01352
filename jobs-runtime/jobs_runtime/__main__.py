"""``jobs-runtime`` / ``python -m jobs_runtime``: run one handler once and exit.

Takes no arguments: a CronJob's pod configures it with ``SHOPCRON_*``
environment variables (see docs/runtime.md).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from jobs_runtime import __version__

USAGE = """\
usage: jobs-runtime

Runs one shopcron handler against the product API, once, and exits.
Configured only by environment variables:

  SHOPCRON_JOB_NAME, SHOPCRON_HANDLER (default publish-draft-products),
  SHOPCRON_DATA (JSON object), SHOPCRON_API_URL, SHOPCRON_API_VERSION (v2|v1),
  SHOPCRON_API_KEY, SHOPCRON_DRY_RUN (true|false), SHOPCRON_LOG_FORMAT (plain|json),
  SHOPCRON_CONCURRENCY, SHOPCRON_PAGE_SIZE, SHOPCRON_BATCH_SIZE,
  SHOPCRON_TIMEOUT_SECONDS, SHOPCRON_MAX_RETRIES, SHOPCRON_BACKOFF_SECONDS,
  SHOPCRON_MAX_BACKOFF_SECONDS, SHOPCRON_TERMINATION_MESSAGE_PATH

Exit codes: 0 done, 1 some products failed, 2 configuration error,
3 product API unreachable or credential refused, 4 internal error,
143 stopped by SIGTERM (130 by SIGINT).
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; returns the exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args in (["-h"], ["--help"]):
        sys.stdout.write(USAGE)
        return 0
    if args == ["--version"]:
        sys.stdout.write(f"jobs-runtime {__version__}\n")
        return 0
    if args:
        sys.stderr.write(
            "jobs-runtime takes no arguments; it is configured by SHOPCRON_* variables\n"
        )
        sys.stderr.write(USAGE)
        return 2

    # Imported here so that --help and --version stay instant.
    from jobs_runtime.app import run

    return run(os.environ)


if __name__ == "__main__":
    sys.exit(main())
