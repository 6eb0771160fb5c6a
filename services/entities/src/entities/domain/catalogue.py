"""Catalogue products: the values a product may take, in their normal form."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from entities.domain.errors import Invalid
from entities.domain.values import BadValue, currency_code, decimal_text

MAX_NAME = 500
MAX_SKU = 100


def check_product(raw: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Normalised product values (only those given), or Invalid naming each bad one."""
    errors: list[dict[str, str]] = []
    values: dict[str, Any] = {}
    for name in ("name", "sku", "base_price", "currency"):
        if name not in raw:
            if creating:
                errors.append({"field": f"/{name}", "message": "a value is required"})
            continue
        try:
            values[name] = _check(name, raw[name])
        except BadValue as exc:
            errors.append({"field": f"/{name}", "message": str(exc)})
    if errors:
        raise Invalid(errors)
    return values


def _check(name: str, value: Any) -> Any:
    if name in ("name", "sku"):
        limit = MAX_NAME if name == "name" else MAX_SKU
        if not isinstance(value, str) or not value.strip():
            raise BadValue("expected a non-empty string")
        if len(value.strip()) > limit:
            raise BadValue(f"at most {limit} characters")
        return value.strip()
    if name == "base_price":
        text = decimal_text(value)
        if text.startswith("-"):
            raise BadValue("a price cannot be negative")
        return text
    return currency_code(value)
