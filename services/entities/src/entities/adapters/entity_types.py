"""PostgreSQL tables of entity types, their fields and dictionaries (the current state)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from conveyor_contracts.entities import FieldDefinition, Option
from conveyor_messaging.db import Connection

from entities.domain.schema import TypeSchema


async def insert_type(
    conn: Connection, tenant_id: str, type_id: str, code: str, name: str, settings: dict[str, Any], now: datetime
) -> None:
    await conn.execute(
        "INSERT INTO entity_types (tenant_id, entity_type_id, code, name, settings, version, created_at, updated_at)"
        " VALUES ($1, $2, $3, $4, $5, 1, $6, $6)",
        tenant_id,
        type_id,
        code,
        name,
        settings,
        now,
    )


async def code_taken(conn: Connection, table: str, tenant_id: str, code: str) -> bool:
    assert table in ("entity_types", "dictionaries")
    return bool(await conn.fetchval(f"SELECT 1 FROM {table} WHERE tenant_id = $1 AND code = $2", tenant_id, code))


async def get_type(conn: Connection, tenant_id: str, type_id: str, *, lock: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM entity_types WHERE tenant_id = $1 AND entity_type_id = $2" + (" FOR UPDATE" if lock else ""),
        tenant_id,
        type_id,
    )


async def entity_type_id_of(conn: Connection, tenant_id: str, id_or_code: str) -> str | None:
    """The id of the type named by its id or its code; None for no type of the tenant."""
    found: str | None = await conn.fetchval(
        "SELECT entity_type_id FROM entity_types WHERE tenant_id = $1 AND (entity_type_id = $2 OR code = $2)"
        " ORDER BY entity_type_id = $2 DESC LIMIT 1",
        tenant_id,
        id_or_code,
    )
    return found


async def list_types(
    conn: Connection, tenant_id: str, *, archived: bool, after: tuple[str, str] | None, limit: int
) -> list[asyncpg.Record]:
    """Up to ``limit`` types by (name, id), those after the key ``after``."""
    return await conn.fetch(
        "SELECT * FROM entity_types WHERE tenant_id = $1 AND ($2 OR archived_at IS NULL)"
        " AND ($3::text IS NULL OR (name, entity_type_id) > ($3, $4))"
        " ORDER BY name, entity_type_id LIMIT $5",
        tenant_id,
        archived,
        *(after or (None, None)),
        limit,
    )


async def update_type(conn: Connection, tenant_id: str, type_id: str, now: datetime, **values: Any) -> None:
    assignments = "".join(f"{column} = ${n}, " for n, column in enumerate(values, start=4))
    await conn.execute(
        f"UPDATE entity_types SET {assignments}version = version + 1, updated_at = $3"
        " WHERE tenant_id = $1 AND entity_type_id = $2",
        tenant_id,
        type_id,
        now,
        *values.values(),
    )


async def fields_of(conn: Connection, tenant_id: str, type_id: str) -> list[FieldDefinition]:
    rows = await conn.fetch(
        "SELECT definition FROM entity_fields WHERE tenant_id = $1 AND entity_type_id = $2 ORDER BY position",
        tenant_id,
        type_id,
    )
    return [FieldDefinition.model_validate(row["definition"]) for row in rows]


async def save_field(conn: Connection, tenant_id: str, type_id: str, field: FieldDefinition) -> None:
    """Insert the field at the end, or replace its definition (its code never changes)."""
    await conn.execute(
        "INSERT INTO entity_fields (tenant_id, entity_type_id, field_id, code, position, definition)"
        " VALUES ($1, $2, $3, $4,"
        "  (SELECT count(*) FROM entity_fields WHERE tenant_id = $1 AND entity_type_id = $2), $5)"
        " ON CONFLICT (tenant_id, field_id) DO UPDATE SET definition = EXCLUDED.definition",
        tenant_id,
        type_id,
        field.field_id,
        field.code,
        field.model_dump(mode="json"),
    )


# The type's row, its field definitions in order and the options of the dictionaries they use, in one statement:
# every item command validates against the schema, and three round trips were a fifth of the service's queries.
_SCHEMA = """
SELECT t.*,
       (SELECT coalesce(jsonb_agg(f.definition ORDER BY f.position), '[]')
          FROM entity_fields f WHERE f.tenant_id = t.tenant_id AND f.entity_type_id = t.entity_type_id) AS definitions,
       (SELECT coalesce(jsonb_object_agg(d.dictionary_id, d.options), '{}')
          FROM dictionaries d
         WHERE d.tenant_id = t.tenant_id
           AND d.dictionary_id IN (SELECT f.definition->>'dictionary_id' FROM entity_fields f
                                    WHERE f.tenant_id = t.tenant_id AND f.entity_type_id = t.entity_type_id)
       ) AS dictionary_options
  FROM entity_types t WHERE t.tenant_id = $1 AND t.entity_type_id = $2"""


async def schema_of(conn: Connection, tenant_id: str, type_id: str) -> TypeSchema | None:
    """The type's rules with every list field's options (its own or its dictionary's)."""
    row = await conn.fetchrow(_SCHEMA, tenant_id, type_id)
    if row is None:
        return None
    fields = [FieldDefinition.model_validate(d) for d in row["definitions"]]
    dictionaries = {
        dictionary_id: [Option.model_validate(o) for o in options]
        for dictionary_id, options in row["dictionary_options"].items()
    }
    options = {
        f.code: (dictionaries.get(f.dictionary_id, []) if f.dictionary_id else list(f.options or []))
        for f in fields
        if f.kind == "list"
    }
    return TypeSchema(
        entity_type_id=type_id,
        settings=row["settings"],
        fields={f.code: f for f in fields},
        options=options,
        archived=row["archived_at"] is not None,
    )


async def insert_dictionary(
    conn: Connection, tenant_id: str, dictionary_id: str, code: str, name: str, options: list[Option]
) -> None:
    await conn.execute(
        "INSERT INTO dictionaries (tenant_id, dictionary_id, code, name, options, version)"
        " VALUES ($1, $2, $3, $4, $5, 1)",
        tenant_id,
        dictionary_id,
        code,
        name,
        [o.model_dump() for o in options],
    )


async def get_dictionary(conn: Connection, tenant_id: str, dictionary_id: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT * FROM dictionaries WHERE tenant_id = $1 AND dictionary_id = $2", tenant_id, dictionary_id
    )


async def list_dictionaries(
    conn: Connection, tenant_id: str, *, after: tuple[str, str] | None, limit: int
) -> list[asyncpg.Record]:
    """Up to ``limit`` dictionaries by (name, id), those after the key ``after``."""
    return await conn.fetch(
        "SELECT * FROM dictionaries WHERE tenant_id = $1 AND ($2::text IS NULL OR (name, dictionary_id) > ($2, $3))"
        " ORDER BY name, dictionary_id LIMIT $4",
        tenant_id,
        *(after or (None, None)),
        limit,
    )


async def update_dictionary(
    conn: Connection, tenant_id: str, dictionary_id: str, name: str, options: list[Option]
) -> None:
    await conn.execute(
        "UPDATE dictionaries SET name = $3, options = $4, version = version + 1"
        " WHERE tenant_id = $1 AND dictionary_id = $2",
        tenant_id,
        dictionary_id,
        name,
        [o.model_dump() for o in options],
    )
