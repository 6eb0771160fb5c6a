"""The kinds of custom field and the validation settings each accepts."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Final

import phonenumbers

TEXT_KINDS: Final = frozenset({"string", "text", "url", "email", "phone"})
NUMBER_KINDS: Final = frozenset({"integer", "decimal", "money"})
KINDS: Final = frozenset(
    {*TEXT_KINDS, *NUMBER_KINDS, "boolean", "date", "datetime", "list", "user", "link"},
)
# Kinds whose values order: they can be sorted on and compared with lt/gt/between.
ORDERED_KINDS: Final = frozenset({"string", "integer", "decimal", "money", "date", "datetime"})

MAX_LENGTH: Final = {"text": 100_000}
DEFAULT_MAX_LENGTH: Final = 1_000
MAX_VALUES: Final = 500
MAX_PATTERN_LENGTH: Final = 500

_ALLOWED: Final[dict[str, frozenset[str]]] = {
    **{kind: frozenset({"min_length", "max_length", "pattern"}) for kind in TEXT_KINDS},
    "phone": frozenset({"min_length", "max_length", "pattern", "region"}),
    **{kind: frozenset({"min", "max"}) for kind in (*NUMBER_KINDS, "date", "datetime")},
}


def check_validation(kind: str, rules: dict[str, Any]) -> list[str]:
    """What is wrong with a field's validation settings (empty when they are usable)."""
    allowed = _ALLOWED.get(kind, frozenset())
    problems = [f"{name!r} does not apply to {kind} fields" for name in rules if name not in allowed]
    for name in ("min_length", "max_length"):
        if name in rules and not (isinstance(rules[name], int) and not isinstance(rules[name], bool)):
            problems.append(f"{name} must be a whole number")
        elif name in rules and rules[name] < 0:
            problems.append(f"{name} must not be negative")
    if "pattern" in rules:
        problems += _pattern_problems(rules["pattern"])
    if "region" in rules and rules["region"] not in phonenumbers.SUPPORTED_REGIONS:
        problems.append("region must be an ISO 3166 country code that phone numbers know, e.g. DE")
    bounds = [_bound(kind, rules[name]) for name in ("min", "max") if name in rules]
    if any(b is None for b in bounds):
        problems.append(f"min and max of {kind} fields must be {_BOUND_SHAPE.get(kind, 'numbers')}")
    elif len(bounds) == 2 and bounds[0] > bounds[1]:
        problems.append("min must not be greater than max")
    if not problems and rules.get("min_length", 0) > rules.get("max_length", MAX_LENGTH.get(kind, DEFAULT_MAX_LENGTH)):
        problems.append("min_length must not be greater than max_length")
    return problems


_BOUND_SHAPE: Final = {"date": "ISO dates (2026-01-31)", "datetime": "ISO datetimes with a time zone"}


def _bound(kind: str, value: Any) -> Any:
    try:
        if kind == "date":
            return date.fromisoformat(value)
        if kind == "datetime":
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else None
        if isinstance(value, bool):
            return None
        number = Decimal(str(value))
        return number if number.is_finite() else None
    except (TypeError, ValueError, InvalidOperation):
        return None


def bound(kind: str, value: Any) -> Any:
    """A min/max setting as a comparable value (it was checked when the field was defined)."""
    return _bound(kind, value)


def _pattern_problems(pattern: Any) -> list[str]:
    if not isinstance(pattern, str) or len(pattern) > MAX_PATTERN_LENGTH:
        return [f"pattern must be a regular expression of at most {MAX_PATTERN_LENGTH} characters"]
    try:
        re.compile(pattern)
    except re.error as exc:
        return [f"pattern is not a valid regular expression: {exc}"]
    return []
