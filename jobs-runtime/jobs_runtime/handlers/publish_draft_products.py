"""publish-draft-products: set every draft product (or the requested ones) to published.

How it stays correct and fast:

* **Collect, then publish.** The draft list is read completely (pages fetched
  concurrently once the first page gives the ``count``) before anything is
  changed, so our own publishing never shifts the offsets we read.
* **Sweep.** Someone else may change the list while we read it (offset paging
  then skips products). After publishing, the list is read again from offset 0
  and any draft not attempted yet is published; at most :data:`MAX_ROUNDS`
  rounds. Ids already attempted are never sent again, so nothing is published
  twice.
* **Batches** of ``batch_size`` on v2 (``POST /admin/products/batch``), one
  request per product on v1; at most ``concurrency`` requests at a time.
* A batch refused with 404 (a product in it was deleted after listing; Medusa's
  batch is all-or-nothing) is retried product by product, and the missing one is
  reported as skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

from jobs_runtime.errors import ApiError, ApiStatusError, Stopped
from jobs_runtime.handlers.base import HandlerContext, HandlerSpec
from jobs_runtime.handlers.publish_plan import (
    DRAFT,
    PUBLISHED,
    PublishOptions,
    chunked,
    confirm_batch,
    first_page_size,
    parse_publish_options,
    plan_listing,
    select_new,
    triage_requested,
)
from jobs_runtime.models import Product, ProductPage
from jobs_runtime.pool import run_pool

NAME = "publish-draft-products"
#: Listing rounds (the first plus sweeps for drafts missed while the list changed).
MAX_ROUNDS = 3
#: Ids per ``id[]`` lookup when ``productIds`` is given (keeps URLs short).
ID_LOOKUP_CHUNK = 50


async def run(ctx: HandlerContext, options: PublishOptions) -> None:
    """Publish the requested products, or every draft; counts go to ``ctx.tally``."""
    if options.product_ids is not None:
        await _publish_requested(ctx, options.product_ids, options.limit)
    else:
        await _publish_all_drafts(ctx, options.limit)


SPEC: HandlerSpec[PublishOptions] = HandlerSpec(NAME, parse_publish_options, run)


async def _publish_all_drafts(ctx: HandlerContext, limit: int | None) -> None:
    attempted: set[str] = set()
    for round_number in range(1, MAX_ROUNDS + 1):
        want = None if limit is None else limit - len(attempted)
        if want is not None and want <= 0:
            return
        found = await _collect_drafts(ctx, exclude=attempted, want=want)
        if ctx.halt.is_set():
            return
        if not found:
            if round_number == 1:
                ctx.log.info("No draft products to publish")
            return
        if round_number == 1:
            suffix = f" (limit {limit})" if limit is not None else ""
            ctx.log.info("Found %d draft products to publish%s", len(found), suffix)
        else:
            ctx.log.info(
                "Found %d more draft products (the list changed while it was read)", len(found)
            )
        attempted.update(p.id for p in found)
        await _publish(ctx, found)
        if ctx.dry_run or ctx.halt.is_set():
            return


async def _collect_drafts(
    ctx: HandlerContext, *, exclude: set[str], want: int | None
) -> list[Product]:
    """Read the draft list from offset 0 and return drafts not in ``exclude``."""
    page_size = first_page_size(ctx.tuning.page_size, want, len(exclude))
    first = await _list_drafts(ctx, page_size, 0)
    plan = plan_listing(first.count, page_size, want, len(exclude))
    pages: dict[int, list[Product]] = {0: first.products}

    async def fetch(offset: int) -> None:
        pages[offset] = (await _list_drafts(ctx, page_size, offset)).products

    await run_pool(plan.more_offsets, fetch, concurrency=ctx.tuning.concurrency, halt=ctx.halt)
    listed = [p for offset in sorted(pages) for p in pages[offset]]
    return select_new(listed, exclude, want)


async def _list_drafts(ctx: HandlerContext, limit: int, offset: int) -> ProductPage:
    try:
        return await ctx.api.list_products(statuses=(DRAFT,), ids=None, limit=limit, offset=offset)
    except ApiStatusError as exc:
        raise ApiError(f"listing draft products failed: {exc}") from exc


async def _publish_requested(
    ctx: HandlerContext, product_ids: Sequence[str], limit: int | None
) -> None:
    if not product_ids:
        ctx.log.info("productIds is empty: nothing to publish")
        return
    found: dict[str, Product] = {}

    async def look_up(chunk: list[str]) -> None:
        try:
            page = await ctx.api.list_products(statuses=None, ids=chunk, limit=len(chunk), offset=0)
        except ApiStatusError as exc:
            raise ApiError(f"looking up productIds failed: {exc}") from exc
        found.update((p.id, p) for p in page.products if p.id in chunk)

    await run_pool(
        chunked(product_ids, ID_LOOKUP_CHUNK),
        look_up,
        concurrency=ctx.tuning.concurrency,
        halt=ctx.halt,
    )
    if ctx.halt.is_set():
        return
    plan = triage_requested(product_ids, found, limit)
    for pid, reason in plan.skipped:
        ctx.tally.skipped += 1
        ctx.log.warning("Skipped product %s: %s", pid, reason)
    ctx.log.info(
        "Found %d of the %d requested products in draft status",
        len(plan.to_publish) + len(plan.deferred),
        len(product_ids),
    )
    if plan.deferred:
        ctx.log.info(
            "Leaving %d requested drafts for a later run (limit %s)", len(plan.deferred), limit
        )
    await _publish(ctx, plan.to_publish)


async def _publish(ctx: HandlerContext, products: list[Product]) -> None:
    if not products:
        return
    if ctx.dry_run:
        for product in products:
            ctx.tally.would_publish += 1
            ctx.log.info("Would publish product %s", product.label())
        return
    if ctx.api.supports_batch:
        chunks = chunked(products, ctx.tuning.batch_size)
        numbered = list(enumerate(chunks, start=1))

        async def publish_numbered(item: tuple[int, list[Product]]) -> None:
            await _publish_chunk(ctx, item[1], item[0], len(chunks))

        await run_pool(
            numbered, publish_numbered, concurrency=ctx.tuning.concurrency, halt=ctx.halt
        )
    else:
        await run_pool(
            products,
            lambda product: _publish_one(ctx, product),
            concurrency=ctx.tuning.concurrency,
            halt=ctx.halt,
        )


async def _publish_chunk(
    ctx: HandlerContext, chunk: list[Product], number: int, total: int
) -> None:
    ids = [p.id for p in chunk]
    try:
        updated = await ctx.api.publish_batch(ids)
    except ApiStatusError as exc:
        if exc.status == 404:
            ctx.log.warning(
                "Batch %d of %d was refused because a product in it no longer exists (%s); "
                "publishing its %d products one by one",
                number,
                total,
                exc.message,
                len(chunk),
            )
            for product in chunk:
                if ctx.halt.is_set():
                    return
                await _publish_one(ctx, product)
            return
        ctx.tally.fail(ids, str(exc))
        ctx.log.warning(
            "Failed to publish batch %d of %d (%d products): %s", number, total, len(chunk), exc
        )
        return
    except (ApiError, Stopped) as exc:
        ctx.tally.fail(ids, str(exc))
        raise
    confirmed, unconfirmed = confirm_batch(ids, updated)
    ctx.tally.published += len(confirmed)
    if confirmed:
        ctx.log.info(
            "Published batch %d of %d: %d products (%s … %s)",
            number,
            total,
            len(confirmed),
            confirmed[0],
            confirmed[-1],
        )
    if unconfirmed:
        reason = "the batch answer does not show it as published"
        ctx.tally.fail(unconfirmed, reason)
        for pid in unconfirmed:
            ctx.log.warning("Failed to publish product %s: %s", pid, reason)


async def _publish_one(ctx: HandlerContext, product: Product) -> None:
    try:
        result = await ctx.api.publish(product.id)
    except ApiStatusError as exc:
        if exc.status == 404:
            ctx.tally.skipped += 1
            ctx.log.warning(
                "Skipped product %s: not found (deleted after it was listed)", product.label()
            )
        else:
            ctx.tally.fail([product.id], str(exc))
            ctx.log.warning("Failed to publish product %s: %s", product.label(), exc)
        return
    except (ApiError, Stopped) as exc:
        ctx.tally.fail([product.id], str(exc))
        raise
    if result.status == PUBLISHED:
        ctx.tally.published += 1
        ctx.log.info("Published product %s", product.label())
    else:
        reason = f"the API answered with status {result.status or 'unknown'}"
        ctx.tally.fail([product.id], reason)
        ctx.log.warning("Failed to publish product %s: %s", product.label(), reason)
