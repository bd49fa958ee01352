"""Fixtures: test product API servers that are always closed, and a termination message path."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.jobs_runtime.helpers import API_KEY
from tests.support.product_api import ProductAPI


@pytest.fixture
def make_api() -> Iterator[Callable[..., ProductAPI]]:
    """Start a test product API (keyword arguments as ProductAPI); closed after the test."""
    started: list[ProductAPI] = []

    def make(**kwargs: Any) -> ProductAPI:
        kwargs.setdefault("api_key", API_KEY)
        api = ProductAPI(**kwargs).start()
        started.append(api)
        return api

    yield make
    for api in started:
        api.close()


@pytest.fixture
def termination_path(tmp_path: Path) -> Path:
    """Where the runtime is told to write its termination message."""
    return tmp_path / "termination-log"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    """Undo the runtime's ``dictConfig`` after each in-process run.

    In a pod the process exits after one run; here the root handler would keep
    writing to a closed capture stream in later tests.
    """
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    quiet = {name: logging.getLogger(name).level for name in ("httpx", "httpcore")}
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    for name, saved in quiet.items():
        logging.getLogger(name).setLevel(saved)
