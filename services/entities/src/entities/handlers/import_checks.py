"""What an import run and a dry run share: the file, the type's rules, the plan, the locale, the key
it matches existing items by, and each row's checks."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any

import asyncpg
from conveyor_access import Action, Scope, scope_for
from conveyor_messaging.db import Connection

from entities.adapters import entity_types, file_spool, import_store
from entities.adapters.access import Access, access_for
from entities.domain import import_files
from entities.domain.errors import Conflict, Forbidden, Invalid, NotFound
from entities.domain.file_shape import FileShape
from entities.domain.import_locale import DATE_FORMATS, DECIMAL_SEPARATORS, Locale, detect
from entities.domain.import_rows import Plan, RowError, plan
from entities.domain.schema import TypeSchema
from entities.domain.unique_keys import key_value, keys_of
from entities.handlers.create_item import checked_values
from entities.handlers.relation_reader import Reader

LOCALE_SAMPLE_ROWS = 1000
ON_MATCH = ("update", "skip")


@dataclass(frozen=True)
class Prepared:
    """A file ready to import into one type by one reader."""

    file: asyncpg.Record
    path: Path
    shape: FileShape
    schema: TypeSchema
    plan: Plan
    access: Access
    reader: Reader
    locale: Locale
    key: tuple[str, ...] = ()  # the unique key matching rows to existing items; () creates every row
    on_match: str = "update"  # what a matched row does: update the item, or skip the row

    def rows(self) -> Iterator[tuple[list[str], int]]:
        """The file's data rows with the original file's line (CSV) or row (XLSX) numbers."""
        return import_files.rows(self.path, self.shape)

    def precheck(self, cells: list[str], line: int) -> tuple[dict[str, Any], dict[str, Any]] | list[RowError]:
        """(system values, custom values) of a row whose shape and assignee are acceptable, or its errors."""
        expected = len(self.plan.columns)
        if len(cells) != expected and self.shape.format == "csv":
            return [RowError(line, "*", "/", f"expected {expected} cells, found {len(cells)}")]
        system, custom = self.plan.values_of(cells, self.locale)
        assignee = system.get("assignee_id") or self.reader.user_id
        if not self.access.allows(assignee, None):
            column = self.plan.column_of("/assignee_id")
            return [RowError(line, column, "/assignee_id", "you may not create items assigned to this user")]
        return system, custom

    def check(self, cells: list[str], line: int) -> list[RowError]:
        """Every error of the row, as the item handler would refuse it (links are checked on import)."""
        values = self.precheck(cells, line)
        if isinstance(values, list):
            return values
        try:
            checked_values(self.schema, values[0], values[1])  # the item handler's own checks, nothing written
        except Invalid as exc:
            return self.plan.row_errors(exc, line)
        return []

    def key_of(self, custom: Mapping[str, Any]) -> str | None:
        """A row's value of the import's key, as the unique keys table holds it (None: empty or bad,
        which the row's own checks name)."""
        try:
            normal, _ = self.schema.check({c: custom[c] for c in self.key if c in custom}, creating=False)
        except Invalid:
            return None
        return key_value(self.key, normal)

    def options(self) -> dict[str, str]:
        return {"decimal_separator": self.locale.decimal_separator, "date_format": self.locale.date_format}


async def prepare(
    conn: Connection,
    reader: Reader,
    *,
    spool: Path,
    file_id: str,
    entity_type_id: str,
    mapping: Mapping[str, str],
    values: Mapping[str, Any],
    key_fields: Sequence[str] = (),
    on_match: str = "update",
    options: Mapping[str, Any] | None = None,
) -> Prepared:
    """The file, the type, the plan and the locale (given, or detected from the file's first rows),
    or NotFound / Forbidden / Invalid before any row is imported."""
    file = await import_store.get_file(conn, reader.tenant_id, file_id)
    if file is None:
        raise NotFound("no such uploaded file")
    schema = await entity_types.schema_of(conn, reader.tenant_id, entity_type_id)
    if schema is None:
        raise NotFound(f"entity type {entity_type_id} not found")
    if schema.archived:
        raise Conflict("the entity type is archived: it takes no new items")
    access = await access_for(
        conn,
        tenant_id=reader.tenant_id,
        user_id=reader.user_id,
        roles=reader.roles,
        entity_type_id=entity_type_id,
        action=Action.CREATE,
    )
    scope = scope_for(access.viewer, access.grants, entity_type_id=entity_type_id, action=Action.CREATE)
    if scope is Scope.NONE:
        raise Forbidden("you may not create items of this entity type")
    the_plan = plan(file["columns"], mapping, values, schema)
    key = _key(schema, the_plan, key_fields, on_match)
    shape = FileShape(
        format=file["format"],
        encoding=file["encoding"],
        delimiter=file["delimiter"],
        columns=tuple(file["columns"]),
        rows=file["rows"],
    )
    path = await file_spool.local_copy(conn, spool, file)
    locale = await asyncio.to_thread(_locale, path, shape, the_plan, dict(options or {}))
    return Prepared(
        file=file,
        path=path,
        shape=shape,
        schema=schema,
        plan=the_plan,
        access=access,
        reader=reader,
        locale=locale,
        key=key,
        on_match=on_match,
    )


def _key(schema: TypeSchema, the_plan: Plan, key_fields: Sequence[str], on_match: str) -> tuple[str, ...]:
    """The type's unique key the import matches by (in the type's order), or Invalid."""
    if on_match not in ON_MATCH:
        raise Invalid.one("/on_match", "update or skip")
    if not key_fields:
        return ()
    key = next((codes for codes in keys_of(schema) if sorted(codes) == sorted(key_fields)), None)
    if key is None:
        keys = " or ".join("+".join(codes) for codes in keys_of(schema)) or "none"
        raise Invalid.one("/key_fields", f"not a unique key of the entity type (its keys: {keys})")
    mapped = set(the_plan.targets.values())
    missing = [code for code in key if f"fields.{code}" not in mapped]
    if missing:
        raise Invalid.one("/key_fields", f"map a column to {missing[0]!r}: rows are matched by it")
    return tuple(key)


def _locale(path: Path, shape: FileShape, the_plan: Plan, options: dict[str, Any]) -> Locale:
    """The options given, the rest detected from the text of the first rows' number and date cells."""
    separator, date_format = options.get("decimal_separator"), options.get("date_format")
    if separator is not None and separator not in DECIMAL_SEPARATORS:
        raise Invalid.one("/options/decimal_separator", "'.' or ','")
    if date_format is not None and date_format not in DATE_FORMATS:
        raise Invalid.one("/options/date_format", f"one of {', '.join(DATE_FORMATS)}")
    if separator is None or date_format is None:
        sample = list(islice(import_files.rows(path, shape), LOCALE_SAMPLE_ROWS))
        found = detect(
            (cells[i] for cells, _ in sample for i in the_plan.numbers if i < len(cells) and cells[i].strip()),
            (cells[i] for cells, _ in sample for i in the_plan.dates if i < len(cells) and cells[i].strip()),
        )
        separator = separator or found.decimal_separator
        date_format = date_format or found.date_format
    return Locale(decimal_separator=separator, date_format=date_format)
