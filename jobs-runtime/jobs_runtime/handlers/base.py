"""What every handler receives and reports (no HTTP here: handlers talk to :class:`ProductApi`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from jobs_runtime.config import Tuning
from jobs_runtime.models import ProductApi

OptionsT = TypeVar("OptionsT")


@dataclass
class Tally:
    """Running counts for the summary line; kept outside the handler so that a run
    cut short (SIGTERM, API gone) still reports what it did."""

    published: int = 0
    failed: int = 0
    skipped: int = 0
    would_publish: int = 0
    first_failure: str | None = None

    def fail(self, product_ids: Iterable[str], reason: str) -> None:
        """Count products that were attempted but are not known to be published."""
        ids = list(product_ids)
        self.failed += len(ids)
        if ids and self.first_failure is None:
            self.first_failure = f"{ids[0]}: {reason}"


@dataclass
class HandlerContext:
    """One run's inputs and shared state.

    ``halt`` is set by SIGTERM/SIGINT or by a fatal error: from then on no new
    request starts, while requests in flight complete.
    """

    api: ProductApi
    dry_run: bool
    tuning: Tuning
    halt: asyncio.Event
    log: logging.Logger
    tally: Tally = field(default_factory=Tally)


@dataclass(frozen=True)
class HandlerSpec(Generic[OptionsT]):
    """A registered handler.

    ``parse`` validates ``data`` before any request is made; ``run`` does the work.
    """

    name: str
    parse: Callable[[Mapping[str, Any]], OptionsT]
    run: Callable[[HandlerContext, OptionsT], Coroutine[Any, Any, None]]
