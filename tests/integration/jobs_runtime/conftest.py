"""Fixtures: test product API servers that are always closed, and a termination message path."""

from __future__ import annotations

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
