"""Set-based writes for a batch of new items: their copies already on their first stage, their
first visits.

A CSV import creates items by the thousand; the per-item path paid five statements for each (copy,
pipelines, stage, visit, event). These take a whole batch in one statement each.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from conveyor_kit.database import as_columns, pairs_found
from conveyor_messaging.db import Connection

from pipelines.adapters.items import ItemCopy


@dataclass(frozen=True, slots=True)
class Placement:
    tenant_id: str
    item_id: str
    pipeline_id: str
    stage_id: str
    at: datetime
    by: str


async def insert_items(conn: Connection, tenant_ids: Sequence[str], copies: Sequence[ItemCopy]) -> set[tuple[str, str]]:
    """Store new items' copies as given (placed ones with version 1, waiting ones with 0); returns the
    (tenant, item) pairs that were new (a repeat is left as it is)."""
    rows = await conn.fetch(
        "INSERT INTO items (tenant_id, item_id, entity_type_id, pipeline_id, stage_id, requested_pipeline_id,"
        " requested_stage_id, title, assignee_id, amount, currency, fields, version, updated_at)"
        " SELECT t, i, e, p, s, rp, rs, ti, a, am, c, f::jsonb, v, u FROM unnest($1::text[], $2::text[],"
        " $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::numeric[],"
        " $11::text[], $12::text[], $13::int[], $14::timestamptz[]) AS n(t, i, e, p, s, rp, rs, ti, a, am, c, f, v, u)"
        " ON CONFLICT DO NOTHING RETURNING tenant_id, item_id",
        list(tenant_ids),
        *as_columns(
            copies, "item_id", "entity_type_id", "pipeline_id", "stage_id", "requested_pipeline_id",
            "requested_stage_id", "title", "assignee_id", "amount", "currency", "fields", "version", "updated_at",
        ),
    )  # fmt: skip
    return {(row["tenant_id"], row["item_id"]) for row in rows}


async def open_first_visits(conn: Connection, placements: Sequence[Placement]) -> None:
    """The first stage visit of items just placed."""
    await conn.execute(
        "INSERT INTO stage_visits (tenant_id, item_id, visit, pipeline_id, stage_id, entered_at, entered_by)"
        " SELECT t, i, 1, p, s, at, b"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[])"
        " AS n(t, i, p, s, at, b)",
        *as_columns(placements, "tenant_id", "item_id", "pipeline_id", "stage_id", "at", "by"),
    )


async def stages_with_tunnels(conn: Connection, stages: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these (tenant, stage) pairs have tunnels leaving them."""
    return await pairs_found(
        conn,
        "SELECT DISTINCT tenant_id, from_stage_id FROM tunnels"
        " WHERE (tenant_id, from_stage_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))",
        stages,
    )
