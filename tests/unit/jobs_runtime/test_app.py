"""The run as a whole with an injected transport: exit codes of the paths HTTP tests can't reach."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from jobs_runtime.app import run
from jobs_runtime.errors import ExitCode

KEY = "sk_unit_0123456789"


def env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "SHOPCRON_JOB_NAME": "unit",
        "SHOPCRON_API_URL": "http://medusa.test",
        "SHOPCRON_API_KEY": KEY,
        "SHOPCRON_TERMINATION_MESSAGE_PATH": str(tmp_path / "tm"),
        "SHOPCRON_BACKOFF_SECONDS": "0",
        **extra,
    }


def test_a_bug_is_exit_4_with_a_redacted_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(_request: httpx.Request) -> httpx.Response:
        raise RuntimeError(f"bug while holding {KEY}")

    code = run(env(tmp_path), transport=httpx.MockTransport(broken))

    out = capsys.readouterr().out
    assert code == 4
    assert "error: Internal error\nTraceback" in out
    assert "RuntimeError: bug while holding ***" in out
    assert KEY not in out
    assert out.splitlines()[-1].startswith("Finished scheduled job: unit (published=0 ")
    assert (tmp_path / "tm").read_text().endswith("; internal error: RuntimeError")


def test_a_listing_refused_with_404_is_an_api_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    transport = httpx.MockTransport(lambda _r: httpx.Response(404, text="Cannot GET /x"))

    code = run(env(tmp_path), transport=transport)

    assert code == ExitCode.API_ERROR
    assert "error: Product API error: listing draft products failed: HTTP 404: Cannot GET /x" in (
        capsys.readouterr().out
    )


def test_a_batch_answer_that_does_not_confirm_is_a_failure_and_is_not_resent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    def api(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            drafts = (
                [{"id": "p1", "status": "draft"}] if request.url.params["offset"] == "0" else []
            )
            offset = request.url.params.get("offset")
            return httpx.Response(200, json={"products": drafts, "count": 1, "offset": offset})
        return httpx.Response(200, json={"created": [], "updated": [], "deleted": []})

    writes: list[httpx.Request] = []

    def counting(request: httpx.Request) -> httpx.Response:
        if request.method == "POST":
            writes.append(request)
        return api(request)

    code = run(env(tmp_path), transport=httpx.MockTransport(counting))

    assert code == ExitCode.PRODUCTS_FAILED
    assert len(writes) == 1
    assert (
        "warning: Failed to publish product p1: the batch answer does not show it as published"
        in (capsys.readouterr().out)
    )
