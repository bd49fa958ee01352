"""Summary line, termination message file, log formats and redaction."""

from __future__ import annotations

import base64
import json
import logging
import sys
from pathlib import Path

from jobs_runtime.handlers.base import Tally
from jobs_runtime.logs import RuntimeFormatter, redact, secret_variants
from jobs_runtime.report import (
    MAX_MESSAGE_BYTES,
    Summary,
    finished_line,
    write_termination_message,
)

KEY = "sk_unit_0123456789"


def test_summary_lines() -> None:
    tally = Tally(published=40, failed=2, skipped=1)
    ok = Summary.from_tally(Tally(published=42), 3.14, dry_run=False, reason=None)
    assert ok.line() == "published=42 failed=0 skipped=0 in 3.1s"
    assert finished_line("publish-products", ok) == (
        "Finished scheduled job: publish-products (published=42 failed=0 skipped=0 in 3.1s)"
    )
    failed = Summary.from_tally(tally, 1.0, dry_run=False, reason="2 products\nfailed")
    assert failed.line() == "published=40 failed=2 skipped=1 in 1.0s; 2 products failed"
    dry = Summary.from_tally(Tally(would_publish=5), 0.04, dry_run=True, reason=None)
    assert dry.counts() == "published=0 failed=0 skipped=0 would_publish=5 in 0.0s"


def test_long_reasons_are_cut() -> None:
    summary = Summary(0, 0, 0, 0.0, reason="x" * 10_000)
    assert len(summary.line()) < 600


def test_termination_message_written_and_truncated(tmp_path: Path) -> None:
    path = tmp_path / "tm"
    assert write_termination_message(str(path), "published=1", create=True)
    assert path.read_text() == "published=1"
    assert write_termination_message(str(path), "é" * 5000, create=True)
    data = path.read_bytes()
    assert len(data) <= MAX_MESSAGE_BYTES
    data.decode("utf-8")  # not cut inside a character


def test_termination_message_default_path_is_never_created(tmp_path: Path) -> None:
    path = tmp_path / "termination-log"
    assert not write_termination_message(str(path), "x", create=False)
    assert not path.exists()
    path.write_text("old and longer")
    assert write_termination_message(str(path), "new", create=False)
    assert path.read_text() == "new"


def test_termination_message_missing_folder_is_ignored(tmp_path: Path) -> None:
    assert not write_termination_message(str(tmp_path / "a" / "b"), "x", create=True)


def test_every_form_of_the_key_is_redacted() -> None:
    basic = base64.b64encode(f"{KEY}:".encode()).decode()
    secrets = secret_variants(f" {KEY}\n")
    text = redact(f"key={KEY} header=Basic {basic}", secrets)
    assert text == "key=*** header=Basic ***"
    assert secret_variants(None) == []
    assert secret_variants("") == []


def _record(level: int, message: str, **fields: object) -> logging.LogRecord:
    record = logging.LogRecord("jobs_runtime", level, __file__, 1, message, None, None)
    if fields:
        record.fields = fields
    return record


def test_plain_format_keeps_the_seed_vocabulary() -> None:
    formatter = RuntimeFormatter(log_format="plain", job="j", secrets=secret_variants(KEY))
    assert formatter.format(_record(logging.INFO, "Processing scheduled job: j")) == (
        "Processing scheduled job: j"
    )
    assert formatter.format(_record(logging.WARNING, f"bad {KEY}")) == "warning: bad ***"
    assert formatter.format(_record(logging.ERROR, "no")) == "error: no"


def test_json_format_and_tracebacks_are_redacted() -> None:
    formatter = RuntimeFormatter(log_format="json", job="j", secrets=secret_variants(KEY))
    try:
        raise ValueError(f"boom {KEY}")
    except ValueError:
        record = _record(logging.ERROR, "Internal error", exit_code=4)
        record.exc_info = sys.exc_info()
    payload = json.loads(formatter.format(record))
    assert payload["level"] == "error"
    assert payload["job"] == "j"
    assert payload["exit_code"] == 4
    assert payload["message"].startswith("Internal error\nTraceback")
    assert KEY not in payload["message"]
    assert "boom ***" in payload["message"]
