"""publish-draft-products decisions: data, listing plan, selection, triage, batch confirmation."""

from __future__ import annotations

import pytest
from jobs_runtime.errors import ConfigError
from jobs_runtime.handlers.publish_plan import (
    PublishOptions,
    chunked,
    confirm_batch,
    first_page_size,
    parse_publish_options,
    plan_listing,
    select_new,
    triage_requested,
)
from jobs_runtime.models import Product


def draft(pid: str) -> Product:
    return Product(id=pid, status="draft")


def test_options() -> None:
    assert parse_publish_options({}) == PublishOptions()
    assert parse_publish_options({"productIds": ["a", " b ", "a"], "limit": 2}) == PublishOptions(
        product_ids=("a", "b"), limit=2
    )
    assert parse_publish_options({"productIds": []}) == PublishOptions(product_ids=())


@pytest.mark.parametrize(
    "data",
    [{"productIds": [""]}, {"productIds": [1]}, {"limit": True}, {"limit": 1.5}, {"limit": -1}],
)
def test_bad_options(data: dict[str, object]) -> None:
    with pytest.raises(ConfigError):
        parse_publish_options(data)


def test_chunked() -> None:
    assert chunked([1, 2, 3, 4, 5], 2) == [[1, 2], [3, 4], [5]]
    assert chunked([], 3) == []


def test_listing_reads_only_the_pages_it_can_use() -> None:
    assert first_page_size(500, None, 0) == 500
    assert first_page_size(500, 7, 0) == 7
    assert first_page_size(500, 7, 10) == 17
    assert plan_listing(1000, 300, None, 0).more_offsets == [300, 600, 900]
    assert plan_listing(1000, 7, 7, 0).more_offsets == []
    assert plan_listing(20, 5, 3, 10).more_offsets == [5, 10]
    assert plan_listing(0, 5, None, 0).more_offsets == []


def test_select_new_skips_handled_repeated_and_no_longer_draft_products() -> None:
    listed = [draft("a"), draft("b"), draft("a"), Product("c", "published"), draft("d"), draft("e")]
    assert [p.id for p in select_new(listed, {"b"}, None)] == ["a", "d", "e"]
    assert [p.id for p in select_new(listed, set(), 2)] == ["a", "b"]


def test_triage_requested_ids() -> None:
    found = {
        "a": draft("a"),
        "b": Product("b", "published"),
        "c": Product("c", "proposed"),
        "d": draft("d"),
        "e": draft("e"),
    }
    plan = triage_requested(["a", "b", "c", "x", "d", "e"], found, limit=2)
    assert [p.id for p in plan.to_publish] == ["a", "d"]
    assert plan.skipped == [
        ("b", "already published"),
        ("c", "status is proposed, not draft"),
        ("x", "not found"),
    ]
    assert plan.deferred == ["e"]


def test_a_batch_answer_confirms_only_what_it_shows_published() -> None:
    updated = [Product("a", "published"), Product("b", "draft")]
    assert confirm_batch(["a", "b", "c"], updated) == (["a"], ["b", "c"])
