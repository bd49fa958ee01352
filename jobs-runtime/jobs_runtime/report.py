"""The run's one-line summary, and the termination message that carries it.

Kubernetes copies the file at the container's ``terminationMessagePath``
(default ``/dev/termination-log``) into the pod status; the operator reads it
to show the last run's summary on the ScheduledJob. Format::

    published=42 failed=0 skipped=0 in 3.1s
    published=40 failed=2 skipped=0 in 3.4s; 2 products failed (first: prod_1: HTTP 500 …)
    published=0 failed=0 skipped=0 would_publish=25 in 0.2s          (dry run)
    published=0 failed=0 skipped=0 in 0.0s; configuration error: SHOPCRON_API_URL is not set

The part after ``; `` appears only on a non-zero exit and says why.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Final

from jobs_runtime.handlers.base import Tally

#: Kubernetes keeps at most 4096 bytes of a termination message.
MAX_MESSAGE_BYTES: Final = 4096
_MAX_REASON_CHARS: Final = 500


@dataclass(frozen=True, slots=True)
class Summary:
    """Counts, duration, and why the run did not succeed (None when it did)."""

    published: int
    failed: int
    skipped: int
    seconds: float
    would_publish: int | None = None
    reason: str | None = None

    @classmethod
    def from_tally(
        cls, tally: Tally, seconds: float, *, dry_run: bool, reason: str | None
    ) -> Summary:
        """Freeze a run's tally into its summary."""
        return cls(
            published=tally.published,
            failed=tally.failed,
            skipped=tally.skipped,
            seconds=seconds,
            would_publish=tally.would_publish if dry_run else None,
            reason=reason,
        )

    def counts(self) -> str:
        """``published=N failed=N skipped=N in 3.1s`` — the part inside the Finished line."""
        parts = f"published={self.published} failed={self.failed} skipped={self.skipped}"
        if self.would_publish is not None:
            parts += f" would_publish={self.would_publish}"
        return f"{parts} in {self.seconds:.1f}s"

    def line(self) -> str:
        """The termination message: the counts, then ``; reason`` when the run failed."""
        if not self.reason:
            return self.counts()
        reason = " ".join(self.reason.split())
        if len(reason) > _MAX_REASON_CHARS:
            reason = reason[: _MAX_REASON_CHARS - 1] + "…"
        return f"{self.counts()}; {reason}"


def finished_line(job_name: str, summary: Summary) -> str:
    """The last log line, in the seed's vocabulary."""
    return f"Finished scheduled job: {job_name} ({summary.counts()})"


def write_termination_message(path: str, line: str, *, create: bool) -> bool:
    """Write ``line`` to ``path``; return whether it was written. Never raises.

    The default path is written only if it exists (the kubelet creates it in a
    container), so running outside Kubernetes does not create ``/dev/termination-log``.
    An explicitly configured path is created if needed. Any OS error (read-only
    file system, missing folder, no permission) is ignored: the summary is in the
    log anyway, and the exit code must not change because of this file.
    """
    data = line.encode("utf-8")[:MAX_MESSAGE_BYTES].decode("utf-8", "ignore").encode("utf-8")
    flags = os.O_WRONLY | os.O_TRUNC | (os.O_CREAT if create else 0)
    try:
        fd = os.open(path, flags, 0o644)
    except OSError:
        return False
    try:
        os.write(fd, data)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True
