"""Kubernetes resource quantities ("500m", "64Mi", "1e3", 2) as exact decimals.

Needed twice: to refuse requests above limits before the API server does, and to
compare a rendered quantity with the canonical form the API server stores ("0.5" comes
back as "500m"), which would otherwise look like drift on every reconcile.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

__all__ = ["QUANTITY_PATTERN", "parse_quantity", "same_quantity"]

# The pattern Kubernetes publishes for resource.Quantity in its OpenAPI schemas.
QUANTITY_PATTERN = (
    r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]"
    r"|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$"
)
_QUANTITY = re.compile(QUANTITY_PATTERN)
_BINARY = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60}
_DECIMAL = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_SPLIT = re.compile(r"^([+-]?[0-9.]*)(.*)$")


def parse_quantity(value: object) -> Decimal | None:
    """The quantity's value, or None if Kubernetes would not accept it as a quantity."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value)) if math.isfinite(value) else None
    if not isinstance(value, str) or not _QUANTITY.fullmatch(value):
        return None
    match = _SPLIT.match(value)
    if match is None:  # pragma: no cover - the pattern above guarantees a match
        return None
    number, suffix = match.groups()
    try:
        base = Decimal(number)
        if suffix in _BINARY:
            return base * _BINARY[suffix]
        if suffix in _DECIMAL:
            return base.scaleb(_DECIMAL[suffix])
        return base.scaleb(int(suffix[1:]))  # e/E exponent
    except (InvalidOperation, ValueError):
        return None


def _milli_ceiling(value: Decimal) -> Decimal:
    """The API server rounds every resource quantity up to milli precision."""
    return (value * 1000).to_integral_value(rounding="ROUND_CEILING")


def same_quantity(a: object, b: object) -> bool:
    """Whether two quantities are what the API server stores as the same value."""
    left, right = parse_quantity(a), parse_quantity(b)
    if left is None or right is None:
        return a == b
    return _milli_ceiling(left) == _milli_ceiling(right)
