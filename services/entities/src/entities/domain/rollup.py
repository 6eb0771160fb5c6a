"""Roll-up arithmetic: a child's contribution, the aggregate over the children, the parent's new value."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

AGGREGATES = ("sum", "count", "min", "max")
PARENT_KINDS = ("integer", "decimal", "money")  # custom parent fields a roll-up may write


def number(value: Any) -> Decimal | None:
    """A stored value as a number: integers, decimal strings and money ({"amount", "currency"})."""
    if isinstance(value, Mapping):
        value = value.get("amount")
    if value is None or isinstance(value, bool):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def contribution(values: Mapping[str, Any], child_fields: Sequence[str]) -> Decimal | None:
    """The product of the child's fields (price * quantity); None when one of them is empty."""
    result = Decimal(1)
    for key in child_fields:
        factor = number(values.get(key))
        if factor is None:
            return None
        result *= factor
    return result


def aggregate(kind: str, children: Iterable[Mapping[str, Any]], child_fields: Sequence[str]) -> Decimal | None:
    """The aggregate over the children; a sum over no children is 0, a min or max over none is None."""
    if kind == "count":
        return Decimal(sum(1 for _ in children))
    parts = [c for c in (contribution(child, child_fields) for child in children) if c is not None]
    if kind == "sum":
        return sum(parts, Decimal(0))
    if not parts:
        return None
    return min(parts) if kind == "min" else max(parts)


def as_parent_value(result: Decimal | None, kind: str, current: Any, default_currency: str | None) -> Any:
    """The value to write into the parent's field, in that field's normal form."""
    if result is None:
        return None
    if kind == "integer":
        return int(result.to_integral_value())
    text = plain(result)
    if kind == "money":
        currency = current.get("currency") if isinstance(current, Mapping) else None
        return {"amount": text, "currency": currency or default_currency or "USD"}
    return text


def plain(value: Decimal) -> str:
    """A decimal in plain notation with at least two places ("1500.00")."""
    quantized = value.quantize(Decimal("0.01")) if value == value.quantize(Decimal("0.01")) else value.normalize()
    return format(quantized, "f")


def same(a: Any, b: Any) -> bool:
    """Equal as values: "1500" and "1500.00" are the same amount."""
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        return same(a.get("amount"), b.get("amount")) and a.get("currency") == b.get("currency")
    x, y = number(a), number(b)
    if x is not None and y is not None:
        return x == y
    return bool(a == b)
