"""Bounded concurrency that stops taking new work but never abandons work in flight.

``asyncio.TaskGroup`` cancels siblings when one fails; for a publish run that
is wrong: a cancelled request may already have changed the product, and the
summary would then lie. Here a worker that meets a fatal error records it and
sets ``halt``; the other workers finish their current item and take no more.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from typing import TypeVar

from jobs_runtime.errors import ShopcronError

T = TypeVar("T")


async def run_pool(
    items: Iterable[T],
    work: Callable[[T], Awaitable[None]],
    *,
    concurrency: int,
    halt: asyncio.Event,
) -> None:
    """Run ``work`` on every item with at most ``concurrency`` at once.

    Stops handing out items once ``halt`` is set. Re-raises the first
    :class:`ShopcronError` a worker met, after every worker has returned.
    """
    pending = iter(items)
    first_error: list[ShopcronError] = []

    async def worker() -> None:
        for item in pending:  # one shared iterator: each item goes to exactly one worker
            if halt.is_set():
                return
            try:
                await work(item)
            except ShopcronError as exc:
                if not first_error:
                    first_error.append(exc)
                halt.set()
                return

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    if first_error:
        raise first_error[0]
