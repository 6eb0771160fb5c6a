"""Labels of list fields' options, from the entities' field and dictionary events."""

from __future__ import annotations

import json
from typing import Any

from conveyor_messaging.db import Connection

from automation.adapters.rows import from_jsonb


async def save_field(
    conn: Connection, tenant_id: str, entity_type_id: str, code: str, dictionary_id: str | None, options: list[Any]
) -> None:
    await conn.execute(
        """INSERT INTO automation_list_fields (tenant_id, entity_type_id, code, dictionary_id, options)
           VALUES ($1, $2, $3, $4, $5::text::jsonb)
           ON CONFLICT (tenant_id, entity_type_id, code) DO UPDATE
              SET dictionary_id = EXCLUDED.dictionary_id, options = EXCLUDED.options""",
        tenant_id,
        entity_type_id,
        code,
        dictionary_id,
        json.dumps(options),
    )


async def save_dictionary(conn: Connection, tenant_id: str, dictionary_id: str, options: list[Any]) -> None:
    await conn.execute(
        """INSERT INTO automation_dictionaries (tenant_id, dictionary_id, options) VALUES ($1, $2, $3::text::jsonb)
           ON CONFLICT (tenant_id, dictionary_id) DO UPDATE SET options = EXCLUDED.options""",
        tenant_id,
        dictionary_id,
        json.dumps(options),
    )


async def labels_of(conn: Connection, tenant_id: str, entity_type_id: str | None) -> dict[str, dict[str, str]]:
    """{field code: {option id: label}} for the type's list fields."""
    if entity_type_id is None:
        return {}
    rows = await conn.fetch(
        """SELECT f.code, coalesce(d.options, f.options) AS options
             FROM automation_list_fields f
             LEFT JOIN automation_dictionaries d ON d.tenant_id = f.tenant_id AND d.dictionary_id = f.dictionary_id
            WHERE f.tenant_id = $1 AND f.entity_type_id = $2""",
        tenant_id,
        entity_type_id,
    )
    return {row["code"]: {o["id"]: o["label"] for o in from_jsonb(row["options"])} for row in rows}
