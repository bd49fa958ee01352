"""Resource quantities, as the API server reads and stores them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from scheduledjob_operator.quantity import parse_quantity, same_quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("500m", Decimal("0.5")),
        ("0.5", Decimal("0.5")),
        ("64Mi", Decimal(64 * 2**20)),
        ("1G", Decimal(10**9)),
        ("1e3", Decimal(1000)),
        ("1E3", Decimal(1000)),
        ("2E", Decimal(2 * 10**18)),
        (".5", Decimal("0.5")),
        (3, Decimal(3)),
        ("+1", Decimal(1)),
    ],
)
def test_values(text: object, value: Decimal) -> None:
    assert parse_quantity(text) == value


@pytest.mark.parametrize(
    "text", ["lots", "", "1 Gi", "1gi", "1Gi\n", "1e", None, True, [], float("nan")]
)
def test_not_quantities(text: object) -> None:
    assert parse_quantity(text) is None


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("0.5", "500m", True),
        ("0.5Gi", "512Mi", True),
        (1, "1", True),
        ("1000m", "1", True),
        ("0.0001", "1m", True),  # the server rounds up to milli precision
        ("100m", "101m", False),
        ("1Gi", "1G", False),
    ],
)
def test_same_quantity(a: object, b: object, same: bool) -> None:
    assert same_quantity(a, b) is same
