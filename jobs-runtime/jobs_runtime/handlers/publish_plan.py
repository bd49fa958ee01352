"""Decisions of publish-draft-products (pure: no I/O, no clock).

What to do with ``data``, which listing pages to read, which products are new,
which requested ids to publish or skip, and what a batch answer confirms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeVar

from jobs_runtime.errors import ConfigError
from jobs_runtime.models import Product

T = TypeVar("T")

DRAFT: Final = "draft"
PUBLISHED: Final = "published"
_KNOWN_KEYS: Final = frozenset({"productIds", "limit"})


@dataclass(frozen=True, slots=True)
class PublishOptions:
    """``data`` of publish-draft-products.

    ``product_ids`` None means "every draft"; an empty tuple means "none" (taken
    literally: an empty selection must never widen to the whole catalogue).
    """

    product_ids: tuple[str, ...] | None = None
    limit: int | None = None


def parse_publish_options(data: Mapping[str, Any]) -> PublishOptions:
    """Validate ``data``; unknown keys are errors because a typo such as
    ``productID`` would otherwise silently publish every draft."""
    problems: list[str] = []
    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        problems.append(
            f"SHOPCRON_DATA has unknown keys for publish-draft-products: {', '.join(unknown)} "
            "(known: limit, productIds)"
        )
    product_ids: tuple[str, ...] | None = None
    raw_ids = data.get("productIds")
    if raw_ids is not None:
        if not isinstance(raw_ids, list) or not all(
            isinstance(pid, str) and pid.strip() for pid in raw_ids
        ):
            problems.append("SHOPCRON_DATA.productIds must be a list of non-empty strings")
        else:
            product_ids = tuple(dedupe(pid.strip() for pid in raw_ids))
    limit: int | None = None
    raw_limit = data.get("limit")
    if raw_limit is not None:
        if isinstance(raw_limit, bool) or not isinstance(raw_limit, int) or raw_limit < 1:
            problems.append("SHOPCRON_DATA.limit must be a whole number of at least 1")
        else:
            limit = raw_limit
    if problems:
        raise ConfigError(problems)
    return PublishOptions(product_ids=product_ids, limit=limit)


def dedupe(values: Iterable[T]) -> list[T]:
    """Drop repeats, keep first-seen order."""
    return list(dict.fromkeys(values))


def chunked(items: Sequence[T], size: int) -> list[list[T]]:
    """Split into lists of at most ``size`` items, in order."""
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


@dataclass(frozen=True, slots=True)
class ListingPlan:
    """How to read a draft listing: the page size and the offsets after the first page."""

    page_size: int
    more_offsets: list[int]


def first_page_size(page_size: int, want: int | None, excluded: int) -> int:
    """Ask for no more on the first page than could be used.

    With a limit, at most ``want`` new products are needed, and at most
    ``excluded`` listed ones can turn out to be already handled.
    """
    if want is None:
        return page_size
    return max(1, min(page_size, want + excluded))


def plan_listing(count: int, page_size: int, want: int | None, excluded: int) -> ListingPlan:
    """The remaining offsets to read once the first page told us the ``count``."""
    needed = count if want is None else min(count, want + excluded)
    return ListingPlan(page_size=page_size, more_offsets=list(range(page_size, needed, page_size)))


def select_new(products: Iterable[Product], exclude: set[str], want: int | None) -> list[Product]:
    """Products not handled yet, each once, at most ``want`` of them."""
    chosen: list[Product] = []
    seen: set[str] = set()
    for product in products:
        if product.id in exclude or product.id in seen:
            continue
        if product.status not in (None, DRAFT):
            continue  # a page can be stale; never publish what is no longer a draft
        seen.add(product.id)
        chosen.append(product)
        if want is not None and len(chosen) >= want:
            break
    return chosen


@dataclass(frozen=True, slots=True)
class RequestedPlan:
    """What to do with ``productIds``: publish, skip (with a reason), or leave for later."""

    to_publish: list[Product] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    deferred: list[str] = field(default_factory=list)


def triage_requested(
    requested: Sequence[str], found: Mapping[str, Product], limit: int | None
) -> RequestedPlan:
    """Sort requested ids by what the API said about them, keeping the requested order."""
    plan = RequestedPlan()
    for pid in requested:
        product = found.get(pid)
        if product is None:
            plan.skipped.append((pid, "not found"))
        elif product.status != DRAFT:
            status = product.status or "unknown"
            reason = (
                "already published" if status == PUBLISHED else f"status is {status}, not draft"
            )
            plan.skipped.append((pid, reason))
        elif limit is not None and len(plan.to_publish) >= limit:
            plan.deferred.append(pid)
        else:
            plan.to_publish.append(product)
    return plan


def confirm_batch(
    requested: Sequence[str], updated: Iterable[Product]
) -> tuple[list[str], list[str]]:
    """Split a batch into ids the answer shows as published and ids it does not.

    A batch whose body was not read as JSON (for example sent without
    ``Content-Type: application/json``) is answered 200 with nothing updated;
    trusting the status code alone would report products as published that are not.
    """
    published = {p.id for p in updated if p.status == PUBLISHED}
    confirmed = [pid for pid in requested if pid in published]
    unconfirmed = [pid for pid in requested if pid not in published]
    return confirmed, unconfirmed
