"""The handler registry: the names a ScheduledJob's ``spec.handler`` may use.

The operator checks ``spec.handler`` against :data:`HANDLER_NAMES`; importing
this package pulls in no HTTP library, so that check stays cheap.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Final

from jobs_runtime.handlers import publish_draft_products
from jobs_runtime.handlers.base import HandlerContext, HandlerSpec, Tally

HANDLERS: Final[Mapping[str, HandlerSpec[Any]]] = MappingProxyType(
    {spec.name: spec for spec in (publish_draft_products.SPEC,)}
)
#: Every handler name jobs-runtime accepts in SHOPCRON_HANDLER.
HANDLER_NAMES: Final[tuple[str, ...]] = tuple(HANDLERS)
DEFAULT_HANDLER: Final = publish_draft_products.NAME

__all__ = ["DEFAULT_HANDLER", "HANDLERS", "HANDLER_NAMES", "HandlerContext", "HandlerSpec", "Tally"]
