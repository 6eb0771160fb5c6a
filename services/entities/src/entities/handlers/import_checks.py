"""What an import run and a dry run share: the file, the type's rules, the plan and each row's checks."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import asyncpg
from conveyor_access import Action, Scope, scope_for
from conveyor_messaging.db import Connection

from entities.adapters import entity_types, import_store
from entities.adapters.access import Access, access_for
from entities.domain.csv_files import records
from entities.domain.errors import Conflict, Forbidden, Invalid, NotFound
from entities.domain.import_rows import Plan, RowError, plan
from entities.domain.schema import TypeSchema
from entities.handlers.create_item import checked_values
from entities.handlers.relation_reader import Reader


@dataclass(frozen=True)
class Prepared:
    """A file ready to import into one type by one reader."""

    file: asyncpg.Record
    schema: TypeSchema
    plan: Plan
    access: Access
    reader: Reader

    def rows(self, skip: int = 0) -> Iterator[tuple[list[str], int]]:
        """The file's records after the header (and after the first ``skip`` of them)."""
        for index, record in enumerate(records(self.file["content"], self.file["delimiter"])):
            if index > skip:
                yield record

    def precheck(self, cells: list[str], line: int) -> tuple[dict[str, Any], dict[str, Any]] | list[RowError]:
        """(system values, custom values) of a row whose shape and assignee are acceptable, or its errors."""
        expected = len(self.plan.columns)
        if len(cells) != expected:
            return [RowError(line, "*", "/", f"expected {expected} cells, found {len(cells)}")]
        system, custom = self.plan.values_of(cells)
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


async def prepare(
    conn: Connection,
    reader: Reader,
    *,
    file_id: str,
    entity_type_id: str,
    mapping: Mapping[str, str],
    values: Mapping[str, Any],
) -> Prepared:
    """The file, the type and the plan, or NotFound / Forbidden / Invalid before any row is read."""
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
    return Prepared(
        file=file, schema=schema, plan=plan(file["columns"], mapping, values, schema), access=access, reader=reader
    )
