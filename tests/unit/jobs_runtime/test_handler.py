"""publish-draft-products and the worker pool against an in-memory fake API (no HTTP)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import pytest
from jobs_runtime.config import Tuning
from jobs_runtime.errors import ApiUnreachable, ShopcronError
from jobs_runtime.handlers import HANDLERS, HandlerContext
from jobs_runtime.handlers.publish_draft_products import MAX_ROUNDS
from jobs_runtime.handlers.publish_plan import PublishOptions
from jobs_runtime.models import Product, ProductPage
from jobs_runtime.pool import run_pool

SPEC = HANDLERS["publish-draft-products"]


class FakeApi:
    """Drafts in memory; optionally a new draft appears after every publish (a busy importer)."""

    def __init__(self, drafts: int, *, batch: bool = True, keep_adding: bool = False) -> None:
        self.status = {f"p{n:03d}": "draft" for n in range(drafts)}
        self.batch = batch
        self.keep_adding = keep_adding
        self.writes: list[str] = []

    @property
    def supports_batch(self) -> bool:
        return self.batch

    async def list_products(
        self,
        *,
        statuses: Sequence[str] | None,
        ids: Sequence[str] | None,
        limit: int,
        offset: int,
    ) -> ProductPage:
        rows = [
            Product(pid, status)
            for pid, status in self.status.items()
            if (statuses is None or status in statuses) and (ids is None or pid in ids)
        ]
        return ProductPage(rows[offset : offset + limit], len(rows))

    async def publish(self, product_id: str) -> Product:
        self.writes.append(product_id)
        self.status[product_id] = "published"
        if self.keep_adding:
            self.status[f"new{len(self.status):03d}"] = "draft"
        return Product(product_id, "published")

    async def publish_batch(self, product_ids: Sequence[str]) -> list[Product]:
        return [await self.publish(pid) for pid in product_ids]


def run_handler(api: FakeApi, options: PublishOptions, **tuning: int) -> HandlerContext:
    ctx = HandlerContext(
        api=api,
        dry_run=False,
        tuning=Tuning(**tuning),
        halt=asyncio.Event(),
        log=logging.getLogger("test"),
    )
    asyncio.run(SPEC.run(ctx, options))
    return ctx


def test_publishes_everything_once() -> None:
    api = FakeApi(23)
    ctx = run_handler(api, PublishOptions(), page_size=4, batch_size=5, concurrency=3)
    assert ctx.tally.published == 23
    assert sorted(api.writes) == sorted(set(api.writes))
    assert set(api.status.values()) == {"published"}


def test_drafts_that_keep_appearing_do_not_make_the_run_endless() -> None:
    api = FakeApi(3, batch=False, keep_adding=True)
    ctx = run_handler(api, PublishOptions(), page_size=2, concurrency=1)
    # round 1 publishes 3 (adding 3), round 2 those 3 (adding 3), round 3 those 3: then stop.
    assert ctx.tally.published == 3 * MAX_ROUNDS
    assert list(api.status.values()).count("draft") == 3


def test_limit_counts_across_rounds() -> None:
    api = FakeApi(3, batch=False, keep_adding=True)
    ctx = run_handler(api, PublishOptions(limit=4), page_size=2, concurrency=1)
    assert ctx.tally.published == 4


def test_pool_lets_work_in_flight_finish_and_starts_nothing_after_a_fatal_error() -> None:
    started: list[int] = []
    finished: list[int] = []

    async def work(item: int) -> None:
        started.append(item)
        if item == 1:
            await asyncio.sleep(0.01)
            raise ApiUnreachable("gone", 3)
        await asyncio.sleep(0.05)
        finished.append(item)

    async def main() -> None:
        await run_pool(range(10), work, concurrency=3, halt=asyncio.Event())

    with pytest.raises(ShopcronError, match="gone"):
        asyncio.run(main())
    assert started == [0, 1, 2]
    assert finished == [0, 2]
