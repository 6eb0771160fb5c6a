"""The system fields every item has: title, assignee, observers, amount and currency, dates..."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from entities.domain.errors import Invalid
from entities.domain.item import SYSTEM_FIELDS
from entities.domain.values import BadValue, currency_code, decimal_text, iso_date

MAX_TITLE = 500
MAX_ID = 200
MAX_OBSERVERS = 100


def check_system(raw: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Normalised system values (only those given), or Invalid naming each bad one (`/title`)."""
    errors: list[dict[str, str]] = []
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if name not in SYSTEM_FIELDS:
            errors.append({"field": f"/{name}", "message": "not a system field of items"})
            continue
        try:
            values[name] = _check(name, value)
        except BadValue as exc:
            errors.append({"field": f"/{name}", "message": str(exc)})
    if creating and "title" not in raw:
        errors.append({"field": "/title", "message": "a title is required"})
    if errors:
        raise Invalid(errors)
    return values


def _check(name: str, value: Any) -> Any:
    if name == "title":
        if not isinstance(value, str) or not value.strip():
            raise BadValue("a title must be a non-empty string")
        if len(value) > MAX_TITLE:
            raise BadValue(f"at most {MAX_TITLE} characters")
        return value.strip()
    if name == "observer_ids":
        if not isinstance(value, list) or not all(isinstance(v, str) and 0 < len(v) <= MAX_ID for v in value):
            raise BadValue("expected a list of user ids")
        if len(value) > MAX_OBSERVERS:
            raise BadValue(f"at most {MAX_OBSERVERS} observers")
        return list(dict.fromkeys(value))
    if value is None or value == "":
        return None
    if name == "amount":
        return decimal_text(value)
    if name == "currency":
        return currency_code(value)
    if name in ("begin_date", "close_date"):
        return iso_date(value)
    if not isinstance(value, str) or len(value) > MAX_ID:
        raise BadValue(f"expected a string of at most {MAX_ID} characters")
    return value
