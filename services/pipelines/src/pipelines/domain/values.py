"""Values as the entities service sends them, read the way the board keeps them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any


def amount_or_none(value: Any) -> Decimal | None:
    """An item's amount as a decimal; a value that is not a number is kept as no amount."""
    try:
        return Decimal(str(value)) if value is not None else None
    except InvalidOperation:
        return None
