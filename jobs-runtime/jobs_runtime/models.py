"""The few product API shapes the handlers need, and the interface they call (pure).

Handlers depend on :class:`ProductApi`, not on httpx, so their decisions can be
tested against an in-memory fake and the HTTP client can change alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Product:
    """A product as listed with ``fields=id,title,status``."""

    id: str
    status: str | None = None
    title: str | None = None

    def label(self) -> str:
        """How a product is named in log lines: id, plus the title when known."""
        return f"{self.id} ({self.title})" if self.title else self.id


@dataclass(frozen=True, slots=True)
class ProductPage:
    """One page of a product listing plus the total the API reports."""

    products: list[Product]
    count: int


class ProductApi(Protocol):
    """What a handler may ask of the product API."""

    @property
    def supports_batch(self) -> bool:
        """Whether :meth:`publish_batch` exists (Medusa v2: yes; v1: no)."""
        ...

    async def list_products(
        self,
        *,
        statuses: Sequence[str] | None,
        ids: Sequence[str] | None,
        limit: int,
        offset: int,
    ) -> ProductPage:
        """One page of products, filtered by status and/or id."""
        ...

    async def publish(self, product_id: str) -> Product:
        """Set one product's status to published; returns the product as the API saw it after."""
        ...

    async def publish_batch(self, product_ids: Sequence[str]) -> list[Product]:
        """Publish several products in one request; returns the updated products."""
        ...
