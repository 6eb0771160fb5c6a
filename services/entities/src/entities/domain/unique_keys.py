"""Unique keys of an entity type: which fields (alone or together) no two live items may share.

A type's settings list its keys (``unique_keys: [["inn"], ["name", "city"]]``). Each key of an item
becomes one (key name, key value) pair; the ``item_unique_keys`` table's primary key holds each pair
to one item. Pure functions: what a key is called and what an item's value of it is.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from entities.domain.errors import Conflict, Invalid
from entities.domain.schema import TypeSchema


class UniqueConflict(Conflict):
    """An item would share a unique key's value with another live item of its type."""

    def __init__(self, fields: Sequence[str], item_id: str, message: str | None = None) -> None:
        super().__init__(message or f"another item ({item_id}) already has this {' + '.join(fields)}")
        self.fields = list(fields)
        self.item_id = item_id


def key_name(codes: Sequence[str]) -> str:
    """How a key is stored: its field codes in the order the type lists them."""
    return ",".join(codes)


def keys_of(schema: TypeSchema) -> list[list[str]]:
    keys: list[list[str]] = schema.settings.get("unique_keys") or []
    return keys


def key_value(codes: Sequence[str], fields: Mapping[str, Any]) -> str | None:
    """The item's value of the key, or None when one of its fields is empty (empty never clashes).

    Text is compared without case and surrounding spaces: "ООО Ромашка" and "ооо ромашка " are the
    same company to a person, so they are the same key.
    """
    values = []
    for code in codes:
        value = fields.get(code)
        if value is None or value == "" or value == []:
            return None
        values.append(_normal(value))
    return json.dumps(values, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def item_keys(schema: TypeSchema, fields: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(key name, key value) of every unique key the item has a value for."""
    pairs = []
    for codes in keys_of(schema):
        value = key_value(codes, fields)
        if value is not None:
            pairs.append((key_name(codes), value))
    return pairs


def check_keys(keys: Sequence[Sequence[str]], schema: TypeSchema) -> None:
    """Invalid naming each key that names no field of the type, or names one twice."""
    errors = []
    for n, codes in enumerate(keys):
        if not codes:
            errors.append({"field": f"/settings/unique_keys/{n}", "message": "a key names at least one field"})
        for code in codes:
            spec = schema.fields.get(code)
            if spec is None or spec.hidden:
                errors.append(
                    {"field": f"/settings/unique_keys/{n}", "message": f"{code!r} is not a field of the type"}
                )
        if len(set(codes)) != len(codes):
            errors.append({"field": f"/settings/unique_keys/{n}", "message": "a key names each field once"})
    if errors:
        raise Invalid(errors)


def _normal(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip().casefold()
    if isinstance(value, list):
        return sorted(_normal(v) for v in value)
    return value
