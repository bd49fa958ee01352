"""publish-draft-products over real HTTP: v2 and v1, large catalogues, log lines."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.jobs_runtime.helpers import run_in_process, runtime_env
from tests.support.product_api import ProductAPI

MakeApi = Callable[..., ProductAPI]


def test_v2_publishes_every_draft_with_the_batch_endpoint(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=25, published=5, api_version="v2")
    already_published = api.ids("published")

    result = run_in_process(runtime_env(api, termination_path), capsys)

    assert result.code == 0
    assert result.lines[0] == "Processing scheduled job: nightly-publish"
    finished = result.finished()
    assert (finished["job"], finished["published"], finished["failed"], finished["skipped"]) == (
        "nightly-publish",
        "25",
        "0",
        "0",
    )
    assert "Published batch 1 of 1: 25 products (prod_000001 … prod_000025)" in result.lines
    state = api.state()
    assert (state["draft"], state["published"]) == (0, 30)
    assert api.requests["batch"] == 1
    assert api.requests["update"] == 0
    assert set(api.publish_writes.values()) == {1}
    assert not set(api.publish_writes) & set(already_published)
    assert result.termination is not None
    assert result.termination.startswith("published=25 failed=0 skipped=0 in ")
    assert result.termination == result.lines[-1].split(" (", 1)[1].rstrip(")")


def test_v1_publishes_one_product_per_request_with_the_access_token(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=12, api_version="v1")

    result = run_in_process(runtime_env(api, termination_path), capsys)

    assert result.code == 0
    assert result.finished()["published"] == "12"
    assert api.state()["draft"] == 0
    assert api.requests["update"] == 12
    assert api.requests["batch"] == 0
    assert "Published product prod_000007 (Product 7)" in result.lines


def test_api_url_with_a_path_prefix(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=3, prefix="/shop/api")

    result = run_in_process(runtime_env(api, termination_path), capsys)

    assert result.code == 0
    assert api.url.endswith("/shop/api")
    assert api.state()["draft"] == 0


@pytest.mark.parametrize("version", ["v2", "v1"])
def test_a_thousand_drafts_with_small_pages_are_each_published_once(
    version: str,
    make_api: MakeApi,
    termination_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    api = make_api(drafts=1000, published=40, api_version=version)
    env = runtime_env(
        api,
        termination_path,
        SHOPCRON_PAGE_SIZE="37",
        SHOPCRON_BATCH_SIZE="50",
        SHOPCRON_CONCURRENCY="6",
    )

    result = run_in_process(env, capsys)

    assert result.code == 0
    assert result.finished()["published"] == "1000"
    assert api.state()["draft"] == 0
    assert len(api.publish_writes) == 1000
    assert max(api.publish_writes.values()) == 1
    # Every page of the first listing, plus one look from offset 0 that finds nothing new.
    assert api.requests["list"] == math.ceil(1000 / 37) + 1
    if version == "v2":
        assert api.requests["batch"] == 20


def test_nothing_to_do(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=0, published=3)

    result = run_in_process(runtime_env(api, termination_path), capsys)

    assert result.code == 0
    assert "No draft products to publish" in result.lines
    assert result.termination is not None
    assert result.termination.startswith("published=0 failed=0 skipped=0 in ")
    assert api.requests["list"] == 1


def test_json_log_lines(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=4)

    result = run_in_process(runtime_env(api, termination_path, SHOPCRON_LOG_FORMAT="json"), capsys)

    records = [json.loads(line) for line in result.lines]
    assert records[0]["message"] == "Processing scheduled job: nightly-publish"
    assert {r["job"] for r in records} == {"nightly-publish"}
    last = records[-1]
    assert last["message"].startswith(
        "Finished scheduled job: nightly-publish (published=4 failed=0 skipped=0 in "
    )
    assert last["exit_code"] == 0
    assert last["summary"] == result.termination
    assert all(r["level"] in {"info", "warning", "error"} for r in records)
