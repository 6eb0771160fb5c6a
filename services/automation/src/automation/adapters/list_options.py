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


# The list fields of the item row ``{item}`` with their options (its dictionary's, when the field uses one) as one
# JSON object {code: options}: a subquery of the item's own read, so that loading an item, which every reaction
# and robot run does, is one statement instead of two.
OPTIONS_OF_ITEM = """(SELECT jsonb_object_agg(f.code, coalesce(d.options, f.options))
    FROM automation_list_fields f
    LEFT JOIN automation_dictionaries d ON d.tenant_id = f.tenant_id AND d.dictionary_id = f.dictionary_id
   WHERE f.tenant_id = {item}.tenant_id AND f.entity_type_id = {item}.entity_type_id)"""


def labels(options_by_code: Any) -> dict[str, dict[str, str]]:
    """{field code: {option id: label}} from what ``OPTIONS_OF_ITEM`` read (NULL: the type has no list field)."""
    return {
        code: {o["id"]: o["label"] for o in from_jsonb(options)}
        for code, options in (from_jsonb(options_by_code) or {}).items()
    }
