"""Every injected fault: what is retried, what is not, and what the run reports."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.jobs_runtime.helpers import (
    API_KEY,
    API_KEY_B64,
    run_in_process,
    runtime_env,
)
from tests.support.product_api import Fault, ProductAPI, RequestInfo

MakeApi = Callable[..., ProductAPI]


def test_429_is_retried_after_the_retry_after_delay(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=20)
    api.inject(Fault("throttle", kinds=frozenset({"batch"}), retry_after="1"))
    batch_times: list[float] = []

    def record(_api: ProductAPI, info: RequestInfo) -> None:
        if info.kind == "batch":
            batch_times.append(time.monotonic())

    api.before = record

    result = run_in_process(runtime_env(api, termination_path), capsys)

    assert result.code == 0
    assert api.state()["draft"] == 0
    assert len(batch_times) == 2
    assert batch_times[1] - batch_times[0] >= 0.95
    assert any(
        "Retrying POST /admin/products/batch after HTTP 429 (retry 1 of 5 in 1.00s)" in line
        for line in result.lines
    )


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_bursts_of_5xx_are_retried(
    version: str, make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=15, api_version=version)
    write = "batch" if version == "v2" else "update"
    api.inject(
        Fault("status", count=2, status=502, kinds=frozenset({"list"})),
        Fault("status", count=3, status=503, kinds=frozenset({write})),
        Fault("status", count=1, status=504),
    )

    result = run_in_process(runtime_env(api, termination_path), capsys)

    assert result.code == 0
    assert result.finished()["published"] == "15"
    assert api.faults_applied["status"] == 6
    assert max(api.publish_writes.values()) == 1
    assert len(api.publish_writes) == 15


def test_dropped_connections_are_retried(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=30)
    api.inject(
        Fault("drop", count=2, kinds=frozenset({"list"})),
        Fault("drop", count=2, kinds=frozenset({"batch"})),
    )

    result = run_in_process(runtime_env(api, termination_path, SHOPCRON_BATCH_SIZE="10"), capsys)

    assert result.code == 0
    assert api.faults_applied["drop"] == 4
    assert api.state()["draft"] == 0
    assert any("connection error (RemoteProtocolError)" in line for line in result.lines)


def test_malformed_json_is_retried(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=5)
    api.inject(Fault("malformed", count=2, kinds=frozenset({"list"})))

    result = run_in_process(runtime_env(api, termination_path), capsys)

    assert result.code == 0
    assert api.faults_applied["malformed"] == 2
    assert any("after malformed response" in line for line in result.lines)
    assert api.state()["draft"] == 0


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_products_deleted_between_listing_and_publishing_are_skipped(
    version: str, make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=12, api_version=version)
    gone = api.ids("draft")[3:6]
    writes = {"batch", "update"}

    def delete_on_first_write(server: ProductAPI, info: RequestInfo) -> None:
        if info.kind in writes and server.before is not None:
            server.before = None
            server.delete(gone)

    api.before = delete_on_first_write

    result = run_in_process(runtime_env(api, termination_path), capsys)

    assert result.code == 0
    finished = result.finished()
    assert (finished["published"], finished["failed"], finished["skipped"]) == ("9", "0", "3")
    assert api.state()["draft"] == 0
    for pid in gone:
        assert any(
            line.startswith(f"warning: Skipped product {pid}") and "not found" in line
            for line in result.lines
        )


def test_no_draft_is_missed_when_the_list_shrinks_while_it_is_read(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Someone else publishes products we already listed; offset paging would skip others."""
    api = make_api(drafts=100)
    first_page = api.ids("draft")[:10]

    def publish_behind_our_back(server: ProductAPI, info: RequestInfo) -> None:
        if info.kind == "list" and server.after is not None:
            server.after = None
            server.set_status(first_page, "published")

    api.after = publish_behind_our_back

    result = run_in_process(
        runtime_env(api, termination_path, SHOPCRON_PAGE_SIZE="10", SHOPCRON_CONCURRENCY="1"),
        capsys,
    )

    assert result.code == 0
    assert api.state()["draft"] == 0
    assert max(api.publish_writes.values()) == 1
    assert "Found 10 more draft products (the list changed while it was read)" in result.lines


def test_retries_exhausted_is_an_api_error(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=5)
    api.inject(Fault("status", count=100, status=503))

    result = run_in_process(runtime_env(api, termination_path, SHOPCRON_MAX_RETRIES="3"), capsys)

    assert result.code == 3
    assert api.requests["list"] == 4
    assert result.termination is not None
    assert "; product API unavailable: GET /admin/products: HTTP 503 (after 4 attempts)" in (
        result.termination
    )
    assert api.state()["draft"] == 5


def test_unreachable_api_is_an_api_error(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=1)
    env = runtime_env(api, termination_path, SHOPCRON_MAX_RETRIES="1")
    api.close()

    result = run_in_process(env, capsys)

    assert result.code == 3
    assert "connection error (ConnectError)" in (result.termination or "")
    assert result.lines[-1].startswith("Finished scheduled job: nightly-publish (published=0 ")


@pytest.mark.parametrize("status", [400, 409, 422, 500])
def test_other_errors_on_one_product_are_not_retried_and_do_not_stop_the_others(
    status: int,
    make_api: MakeApi,
    termination_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    api = make_api(drafts=10, api_version="v1")
    api.inject(Fault("status", status=status, kinds=frozenset({"update"}), skip=4))

    result = run_in_process(runtime_env(api, termination_path, SHOPCRON_CONCURRENCY="1"), capsys)

    assert result.code == 1
    assert api.requests["update"] == 10
    finished = result.finished()
    assert (finished["published"], finished["failed"]) == ("9", "1")
    assert api.ids("draft") == ["prod_000005"]
    assert result.termination is not None
    assert f"; 1 product failed (first: prod_000005: HTTP {status} " in result.termination


def test_a_refused_batch_fails_its_products_only(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=30)
    api.inject(Fault("status", status=500, kinds=frozenset({"batch"}), skip=1))

    result = run_in_process(
        runtime_env(api, termination_path, SHOPCRON_BATCH_SIZE="10", SHOPCRON_CONCURRENCY="1"),
        capsys,
    )

    assert result.code == 1
    assert api.requests["batch"] == 3
    finished = result.finished()
    assert (finished["published"], finished["failed"]) == ("20", "10")
    assert api.ids("draft") == [f"prod_{n:06d}" for n in range(11, 21)]


def test_credential_revoked_mid_run_stops_the_run(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=30)

    def revoke_after_first_batch(server: ProductAPI, info: RequestInfo) -> None:
        if info.kind == "batch":
            server.api_key = "sk_rotated_elsewhere"

    api.after = revoke_after_first_batch

    result = run_in_process(
        runtime_env(api, termination_path, SHOPCRON_BATCH_SIZE="10", SHOPCRON_CONCURRENCY="1"),
        capsys,
    )

    assert result.code == 3
    assert api.requests["batch"] == 2  # the refused one is not retried, the third never sent
    finished = result.finished()
    assert (finished["published"], finished["failed"]) == ("10", "10")
    result.assert_no_secret()


def test_an_error_echoing_the_credential_is_printed_without_it(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=3)
    api.inject(Fault("leak_credential", kinds=frozenset({"batch"})))

    result = run_in_process(runtime_env(api, termination_path), capsys)

    assert result.code == 1
    assert any("Invalid credential header: Basic ***" in line for line in result.lines)
    assert API_KEY_B64 not in result.stdout
    assert API_KEY not in result.stdout
    result.assert_no_secret()
