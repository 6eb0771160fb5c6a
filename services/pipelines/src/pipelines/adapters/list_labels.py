"""The copy of list fields' option labels (the entities service owns them), read by the board."""

from __future__ import annotations

import orjson
from conveyor_messaging.db import Connection

# (tenant, entity type, field code, {option id: label}, dictionary id)
ListField = tuple[str, str, str, dict[str, str], str | None]
# (tenant, dictionary id, {option id: label})
Dictionary = tuple[str, str, dict[str, str]]


async def keep_fields(conn: Connection, fields: list[ListField]) -> None:
    """Write list fields' definitions in one statement; a field defined twice keeps the later one."""
    newest = {field[:3]: field for field in fields}
    rows = list(newest.values())
    if not rows:
        return
    await conn.execute(
        "INSERT INTO list_fields (tenant_id, entity_type_id, code, labels, dictionary_id)"
        " SELECT t, e, c, l::jsonb, d FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])"
        "  AS n(t, e, c, l, d)"
        " ON CONFLICT (tenant_id, entity_type_id, code)"
        " DO UPDATE SET labels = EXCLUDED.labels, dictionary_id = EXCLUDED.dictionary_id",
        [r[0] for r in rows],
        [r[1] for r in rows],
        [r[2] for r in rows],
        [orjson.dumps(r[3]).decode() for r in rows],
        [r[4] for r in rows],
    )


async def keep_dictionaries(conn: Connection, dictionaries: list[Dictionary]) -> None:
    """Write dictionaries' options in one statement; one changed twice keeps the later list."""
    newest = {d[:2]: d for d in dictionaries}
    rows = list(newest.values())
    if not rows:
        return
    await conn.execute(
        "INSERT INTO dictionary_labels (tenant_id, dictionary_id, labels)"
        " SELECT t, d, l::jsonb FROM unnest($1::text[], $2::text[], $3::text[]) AS n(t, d, l)"
        " ON CONFLICT (tenant_id, dictionary_id) DO UPDATE SET labels = EXCLUDED.labels",
        [r[0] for r in rows],
        [r[1] for r in rows],
        [orjson.dumps(r[2]).decode() for r in rows],
    )


async def labels_of(
    conn: Connection, tenant_id: str, entity_type_id: str, codes: list[str]
) -> dict[str, dict[str, str]]:
    """{field code: {option id: label}} of the type's list fields among `codes`."""
    rows = await conn.fetch(
        "SELECT f.code, coalesce(d.labels, f.labels) AS labels FROM list_fields f"
        " LEFT JOIN dictionary_labels d ON d.tenant_id = f.tenant_id AND d.dictionary_id = f.dictionary_id"
        " WHERE f.tenant_id = $1 AND f.entity_type_id = $2 AND f.code = ANY($3::text[])",
        tenant_id,
        entity_type_id,
        codes,
    )
    return {row["code"]: dict(row["labels"]) for row in rows}
