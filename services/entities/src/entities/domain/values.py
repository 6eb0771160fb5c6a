"""One custom value checked against its field: parsed, normalised, held to the field's rules.

Values are stored and published in one normal form per kind: integers as JSON numbers, decimals
and money amounts as strings ("1234.50"), dates as ISO dates, datetimes as ISO UTC, phones as
E.164, e-mails normalised, list values as option ids. Strings (as CSV cells arrive) are accepted
for every kind.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

import phonenumbers
import pycountry
from conveyor_contracts.entities import FieldDefinition, Option
from email_validator import EmailNotValidError, validate_email
from pydantic import HttpUrl, TypeAdapter, ValidationError

from entities.domain.kinds import DEFAULT_MAX_LENGTH, MAX_LENGTH, MAX_VALUES, bound

_URL = TypeAdapter(HttpUrl)
_INTEGER = re.compile(r"^[+-]?\d{1,19}$")
_TRUE, _FALSE = frozenset({"true", "1", "yes", "y"}), frozenset({"false", "0", "no", "n"})


def _remember_email_domains() -> None:
    """Half of an e-mail check is its domain's (IDNA, special-use names), and an import's rows share a
    few domains: the library's domain check is a pure function of its arguments, so remembering its
    answers changes no result (a refused domain raises, which is not remembered) and makes an
    import's e-mail column about twice as fast (bench/README.md, CSV import)."""
    names = vars(importlib.import_module("email_validator.validate_email"))  # the package's name is the function
    check = names.get("validate_email_domain_name")
    # An upgrade that renames or moves it costs this speed-up, never the checks (uv.lock pins 2.x).
    if callable(check) and not hasattr(check, "cache_info"):
        names["validate_email_domain_name"] = lru_cache(maxsize=4096)(check)


_remember_email_domains()


class BadValue(ValueError):
    """A value the field cannot take; the message says why, for a person."""


def is_empty(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def check_value(field: FieldDefinition, raw: Any, options: Sequence[Option] = (), *, rules: bool = True) -> Any:
    """The value in normal form, or BadValue. Empty values are None; multiple fields take lists."""
    if is_empty(raw):
        return None
    if not field.multiple:
        return _one(field, raw, options, rules)
    if not isinstance(raw, list):
        raise BadValue("expected a list of values (the field is multiple)")
    if len(raw) > MAX_VALUES:
        raise BadValue(f"at most {MAX_VALUES} values")
    values: list[Any] = []
    for index, item in enumerate(raw):
        try:
            value = _one(field, item, options, rules)
        except BadValue as exc:
            raise BadValue(f"value {index}: {exc}") from None
        if value is not None and value not in values:
            values.append(value)
    return values or None


def _one(field: FieldDefinition, raw: Any, options: Sequence[Option], rules: bool) -> Any:
    if isinstance(raw, list | dict) and field.kind != "money":
        raise BadValue(f"expected a single {field.kind} value")
    value = _PARSERS[field.kind](raw, field, options)
    if rules:
        _hold_to_rules(field, value)
    return value


def _text(raw: Any, field: FieldDefinition, _: Sequence[Option]) -> str:
    if not isinstance(raw, str):
        raise BadValue("expected a string")
    return raw


def _integer(raw: Any, *_: Any) -> int:
    if isinstance(raw, bool):
        raise BadValue("expected an integer")
    if isinstance(raw, int):
        number = raw
    elif isinstance(raw, float) and raw.is_integer():
        number = int(raw)
    elif isinstance(raw, str) and _INTEGER.match(raw.strip()):
        number = int(raw.strip())
    else:
        raise BadValue("expected an integer")
    if abs(number) >= 2**63:
        raise BadValue("the integer is too large")
    return number


def decimal_text(raw: Any) -> str:
    """A decimal in plain notation ("1234.50"), or BadValue."""
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise BadValue("expected a decimal number")
    try:
        number = Decimal(str(raw).strip())
    except InvalidOperation:
        raise BadValue("expected a decimal number") from None
    if not number.is_finite() or abs(number.adjusted()) > 30:
        raise BadValue("expected a finite decimal number of at most 30 digits")
    return format(number, "f")


def _decimal(raw: Any, *_: Any) -> str:
    return decimal_text(raw)


def currency_code(raw: Any) -> str:
    """An ISO 4217 currency code in upper case, or BadValue."""
    if not isinstance(raw, str) or pycountry.currencies.get(alpha_3=raw.strip().upper()) is None:
        raise BadValue("expected an ISO 4217 currency code such as EUR")
    return raw.strip().upper()


def _money(raw: Any, *_: Any) -> dict[str, str]:
    if isinstance(raw, str) and "|" in raw:  # "12.50|EUR", as spreadsheets carry money
        amount, _sep, currency = raw.partition("|")
        raw = {"amount": amount, "currency": currency}
    if not isinstance(raw, dict) or set(raw) != {"amount", "currency"}:
        raise BadValue('expected {"amount": "12.50", "currency": "EUR"}')
    return {"amount": decimal_text(raw["amount"]), "currency": currency_code(raw["currency"])}


def _boolean(raw: Any, *_: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower() if isinstance(raw, str | int) else ""
    if text in _TRUE or text in _FALSE:
        return text in _TRUE
    raise BadValue("expected true or false")


def iso_date(raw: Any) -> str:
    """An ISO date ("2026-01-31"), or BadValue."""
    try:
        return date.fromisoformat(raw.strip()).isoformat() if isinstance(raw, str) else _no_date()
    except ValueError:
        return _no_date()


def _no_date() -> str:
    raise BadValue("expected an ISO date such as 2026-01-31")


def _date(raw: Any, *_: Any) -> str:
    return iso_date(raw)


def _datetime(raw: Any, *_: Any) -> str:
    try:
        parsed = datetime.fromisoformat(raw.strip()) if isinstance(raw, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise BadValue("expected an ISO datetime with a time zone, such as 2026-01-31T09:00:00+03:00")
    return parsed.astimezone(UTC).isoformat()


def _list(raw: Any, field: FieldDefinition, options: Sequence[Option]) -> str:
    if not isinstance(raw, str):
        raise BadValue("expected an option id")
    by_id = {o.id: o for o in options}
    option = by_id.get(raw) or _only_label_match(raw, options)
    if option is None:
        raise BadValue(f"{raw!r} is not an option of this field")
    if option.hidden:
        raise BadValue(f"option {option.label!r} is no longer offered")
    return option.id


def _only_label_match(label: str, options: Sequence[Option]) -> Option | None:
    matches = [o for o in options if o.label == label]
    return matches[0] if len(matches) == 1 else None


def _reference(raw: Any, *_: Any) -> str:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 200:
        raise BadValue("expected an id (a non-empty string of at most 200 characters)")
    return raw.strip()


def _url(raw: Any, *_: Any) -> str:
    try:
        _URL.validate_python(raw)
    except ValidationError:
        raise BadValue("expected an http(s) URL") from None
    return str(raw).strip()


def _email(raw: Any, *_: Any) -> str:
    if not isinstance(raw, str):
        raise BadValue("expected an e-mail address")
    try:
        return validate_email(raw, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise BadValue(str(exc)) from None


def _phone(raw: Any, field: FieldDefinition, _: Sequence[Option]) -> str:
    if not isinstance(raw, str):
        raise BadValue("expected a phone number")
    try:
        number = phonenumbers.parse(raw, field.validation.get("region"))
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise BadValue("expected a valid phone number (international form, e.g. +49 30 1234567)")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


_PARSERS: dict[str, Callable[[Any, FieldDefinition, Sequence[Option]], Any]] = {
    "string": _text,
    "text": _text,
    "integer": _integer,
    "decimal": _decimal,
    "money": _money,
    "boolean": _boolean,
    "date": _date,
    "datetime": _datetime,
    "list": _list,
    "user": _reference,
    "link": _reference,
    "url": _url,
    "email": _email,
    "phone": _phone,
}


def _hold_to_rules(field: FieldDefinition, value: Any) -> None:
    rules, kind = field.validation, field.kind
    if isinstance(value, str) and kind in ("string", "text", "url", "email", "phone"):
        longest = rules.get("max_length", MAX_LENGTH.get(kind, DEFAULT_MAX_LENGTH))
        if len(value) > longest:
            raise BadValue(f"at most {longest} characters")
        if len(value) < rules.get("min_length", 0):
            raise BadValue(f"at least {rules['min_length']} characters")
        if "pattern" in rules and not re.fullmatch(rules["pattern"], value):
            raise BadValue(f"does not match the pattern {rules['pattern']}")
    comparable = _comparable(kind, value)
    if comparable is not None:
        if "min" in rules and comparable < bound(kind, rules["min"]):
            raise BadValue(f"must be at least {rules['min']}")
        if "max" in rules and comparable > bound(kind, rules["max"]):
            raise BadValue(f"must be at most {rules['max']}")


def _comparable(kind: str, value: Any) -> Any:
    if kind in ("integer", "decimal"):
        return Decimal(str(value))
    if kind == "money":
        return Decimal(value["amount"])
    if kind == "date":
        return date.fromisoformat(value)
    if kind == "datetime":
        return datetime.fromisoformat(value)
    return None
