"""From CSV cells to item values: the column mapping, the values set for every row, and row errors
by line and column."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from entities.domain.errors import Invalid
from entities.domain.import_locale import Locale
from entities.domain.item import SYSTEM_FIELDS
from entities.domain.schema import TypeSchema
from entities.domain.system_values import check_system

FIXED = "(set for every row)"  # the "column" of an error in a value set for every row


@dataclass(frozen=True)
class RowError:
    """One refused value: the file's line (the header is line 1), its column, the field and why."""

    line: int
    column: str
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "field": self.field, "message": self.message}


@dataclass(frozen=True)
class Plan:
    """How each row becomes an item: which cell goes to which field, and the values every row gets."""

    targets: Mapping[int, str]  # column index → "title", "assignee_id"... or "fields.<code>"
    columns: Sequence[str]
    fixed: Mapping[str, Any]
    numbers: frozenset[int] = frozenset()  # columns of number fields: read in the import's locale
    dates: frozenset[int] = frozenset()  # columns of date fields: read in the import's locale

    def values_of(self, cells: Sequence[str], locale: Locale | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """(system values, custom values by code) of one row, numbers and dates read in ``locale``."""
        merged: dict[str, Any] = dict(self.fixed)
        for index, target in self.targets.items():
            cell = cells[index].strip() if index < len(cells) else ""
            if cell and locale is not None:
                if index in self.numbers:
                    cell = locale.number(cell)
                elif index in self.dates:
                    cell = locale.date(cell)
            merged[target] = cell if cell != "" else None
        system = {k: v for k, v in merged.items() if not k.startswith("fields.") and (v is not None or k == "title")}
        custom = {k.removeprefix("fields."): v for k, v in merged.items() if k.startswith("fields.") and v is not None}
        if system.get("title") is None:
            system["title"] = ""
        return system, custom

    def column_of(self, pointer: str) -> str:
        """The column an error's pointer (`/title`, `/fields/inn`) came from."""
        target = pointer.lstrip("/").replace("/", ".", 1)
        for index, mapped in self.targets.items():
            if mapped == target:
                return self.columns[index]
        return FIXED

    def row_errors(self, invalid: Invalid, line: int) -> list[RowError]:
        return [RowError(line, self.column_of(e["field"]), e["field"], e["message"]) for e in invalid.errors]


def plan(columns: Sequence[str], mapping: Mapping[str, str], fixed: Mapping[str, Any], schema: TypeSchema) -> Plan:
    """The plan for a file's columns, or Invalid naming each unknown column, target or bad fixed value."""
    errors: list[dict[str, str]] = []
    targets: dict[int, str] = {}
    for column, target in mapping.items():
        key = _key(target)
        if column not in columns:
            errors.append({"field": f"/columns/{column}", "message": "the file has no such column"})
        elif not _known(key, schema):
            errors.append({"field": f"/columns/{column}", "message": f"{target!r} is not a field of the entity type"})
        elif key in targets.values():
            errors.append({"field": f"/columns/{column}", "message": f"another column is already mapped to {target!r}"})
        else:
            targets[columns.index(column)] = key
    keyed_fixed = {_key(k): v for k, v in fixed.items()}
    for key in keyed_fixed:
        if not _known(key, schema):
            errors.append({"field": f"/values/{key}", "message": "not a field of the entity type"})
    if "title" not in targets.values() and "title" not in keyed_fixed:
        errors.append({"field": "/columns", "message": "map a column to the title"})
    if errors:
        raise Invalid(errors)
    _check_fixed(keyed_fixed, schema)
    kinds = {index: _kind(key, schema) for index, key in targets.items()}
    return Plan(
        targets=targets,
        columns=tuple(columns),
        fixed=keyed_fixed,
        numbers=frozenset(i for i, kind in kinds.items() if kind in ("integer", "decimal")),
        dates=frozenset(i for i, kind in kinds.items() if kind == "date"),
    )


def _kind(key: str, schema: TypeSchema) -> str | None:
    """The kind of value a target holds, as far as reading numbers and dates goes."""
    if key.startswith("fields."):
        return schema.fields[key.removeprefix("fields.")].kind
    return {"amount": "decimal", "begin_date": "date", "close_date": "date"}.get(key)


def _key(target: str) -> str:
    """A mapping target as a change key: system fields by name, custom fields as `fields.<code>`."""
    return target if target in SYSTEM_FIELDS or target.startswith("fields.") else f"fields.{target}"


def _known(key: str, schema: TypeSchema) -> bool:
    if key.startswith("fields."):
        spec = schema.fields.get(key.removeprefix("fields."))
        return spec is not None and not spec.hidden
    return key in SYSTEM_FIELDS and key != "observer_ids"


def _check_fixed(fixed: Mapping[str, Any], schema: TypeSchema) -> None:
    errors: list[dict[str, str]] = []
    for check in (
        lambda: check_system({k: v for k, v in fixed.items() if not k.startswith("fields.")}, creating=False),
        lambda: schema.check(
            {k.removeprefix("fields."): v for k, v in fixed.items() if k.startswith("fields.")}, creating=False
        ),
    ):
        try:
            check()
        except Invalid as exc:
            errors += [{"field": "/values" + e["field"], "message": e["message"]} for e in exc.errors]
    if errors:
        raise Invalid(errors)
