"""SHOPCRON_DRY_RUN and the handler's data: productIds and limit."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.integration.jobs_runtime.helpers import run_in_process, runtime_env
from tests.support.product_api import ProductAPI

MakeApi = Callable[..., ProductAPI]


def test_dry_run_lists_what_it_would_publish_and_changes_nothing(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=10, published=2)
    before = api.state()["products"]

    result = run_in_process(runtime_env(api, termination_path, SHOPCRON_DRY_RUN="true"), capsys)

    assert result.code == 0
    assert api.state()["products"] == before
    assert api.requests["batch"] == api.requests["update"] == 0
    would = [line for line in result.lines if line.startswith("Would publish product ")]
    assert would[0] == "Would publish product prod_000001 (Product 1)"
    assert len(would) == 10
    finished = result.finished()
    assert (finished["published"], finished["would"]) == ("0", "10")
    assert result.termination is not None
    assert result.termination.startswith("published=0 failed=0 skipped=0 would_publish=10 in ")


def test_product_ids_publish_only_those_drafts_and_report_the_rest(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=6, published=1)
    drafts = api.ids("draft")
    published = api.ids("published")[0]
    wanted = [drafts[1], drafts[4], published, "prod_missing", drafts[1]]
    data = json.dumps({"productIds": wanted})

    result = run_in_process(runtime_env(api, termination_path, SHOPCRON_DATA=data), capsys)

    assert result.code == 0
    assert set(api.ids("published")) == {drafts[1], drafts[4], published}
    assert dict(api.publish_writes) == {drafts[1]: 1, drafts[4]: 1}
    finished = result.finished()
    assert (finished["published"], finished["skipped"]) == ("2", "2")
    assert f"warning: Skipped product {published}: already published" in result.lines
    assert "warning: Skipped product prod_missing: not found" in result.lines


def test_limit_publishes_at_most_that_many_in_list_order(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=30)
    drafts = api.ids("draft")

    result = run_in_process(
        runtime_env(
            api,
            termination_path,
            SHOPCRON_DATA='{"limit": 7}',
            SHOPCRON_PAGE_SIZE="5",
            SHOPCRON_BATCH_SIZE="3",
        ),
        capsys,
    )

    assert result.code == 0
    assert result.finished()["published"] == "7"
    assert api.ids("published") == drafts[:7]
    assert "Found 7 draft products to publish (limit 7)" in result.lines


def test_product_ids_with_a_limit(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=8, api_version="v1")
    drafts = api.ids("draft")
    data = json.dumps({"productIds": drafts[2:7], "limit": 2})

    result = run_in_process(runtime_env(api, termination_path, SHOPCRON_DATA=data), capsys)

    assert result.code == 0
    assert api.ids("published") == drafts[2:4]
    assert "Leaving 3 requested drafts for a later run (limit 2)" in result.lines


def test_dry_run_with_product_ids(
    make_api: MakeApi, termination_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = make_api(drafts=4)
    drafts = api.ids("draft")
    data = json.dumps({"productIds": [drafts[3], "prod_gone"]})

    result = run_in_process(
        runtime_env(api, termination_path, SHOPCRON_DATA=data, SHOPCRON_DRY_RUN="true"), capsys
    )

    assert result.code == 0
    assert api.ids("draft") == drafts
    assert f"Would publish product {drafts[3]} (Product 4)" in result.lines
    finished = result.finished()
    assert (finished["would"], finished["skipped"]) == ("1", "1")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ('{"productID": ["prod_1"]}', "SHOPCRON_DATA has unknown keys"),
        ('{"limit": 0}', "SHOPCRON_DATA.limit must be a whole number of at least 1"),
        ('{"productIds": "prod_1"}', "SHOPCRON_DATA.productIds must be a list"),
        ("[1, 2]", "SHOPCRON_DATA must be a JSON object"),
    ],
)
def test_bad_data_is_a_configuration_error_before_any_request(
    data: str,
    message: str,
    make_api: MakeApi,
    termination_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    api = make_api(drafts=3)

    result = run_in_process(runtime_env(api, termination_path, SHOPCRON_DATA=data), capsys)

    assert result.code == 2
    assert any(line.startswith("error: Configuration error: " + message) for line in result.lines)
    assert api.total_requests() == 0
    assert result.termination is not None
    assert "; configuration error: " + message in result.termination
