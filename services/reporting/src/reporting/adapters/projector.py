"""Applies a batch of events to a set of projection tables: consecutive events with the same reaction
go to it together, then what copies the touched items is refreshed: their product lines, and the field visits
and process steps that carry the item's assignee, pipeline and bin mark."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope

from reporting.handlers import Projection

# A number field holds a number, a decimal string or a money object {"amount": ..., "currency": ...}.
_NUMBER = """(CASE jsonb_typeof(i.fields->'{0}') WHEN 'number' THEN (i.fields->>'{0}')::numeric
                  WHEN 'string' THEN nullif(i.fields->>'{0}', '')::numeric
                  WHEN 'object' THEN (i.fields->'{0}'->>'amount')::numeric END)"""

_REFRESH_LINES = f"""
INSERT INTO {{s}}.product_lines AS l (tenant_id, line_item_id, deal_item_id, product_id, name, price, quantity)
SELECT i.tenant_id, i.item_id, i.parent_item_id, i.product_id, i.title,
       coalesce({_NUMBER.format("price")}, 0), coalesce({_NUMBER.format("quantity")}, 0)
  FROM {{s}}.items i
 WHERE (i.tenant_id, i.item_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
   AND i.product_id IS NOT NULL AND NOT i.deleted
ON CONFLICT (tenant_id, line_item_id) DO UPDATE
SET deal_item_id = excluded.deal_item_id, product_id = excluded.product_id, name = excluded.name,
    price = excluded.price, quantity = excluded.quantity"""

# Rows that reports filter by their item's rights carry the item's assignee and pipeline (field visits also its
# bin mark); they follow the touched items, whichever came first.
_FOLLOWERS = {
    "field_visits": {"item_assignee_id": "assignee_id", "item_pipeline_id": "pipeline_id", "item_deleted": "deleted"},
    "process_steps": {"item_assignee_id": "assignee_id", "item_pipeline_id": "pipeline_id"},
}
_FOLLOW_ITEMS = """
UPDATE {{s}}.{table} t SET ({copies}) = ROW({values})
  FROM unnest($1::text[], $2::text[]) AS k(tenant_id, item_id)
  JOIN {{s}}.items i ON i.tenant_id = k.tenant_id AND i.item_id = k.item_id
 WHERE t.tenant_id = k.tenant_id AND t.item_id = k.item_id AND ({own}) IS DISTINCT FROM ({values})"""
_FOLLOW = [
    _FOLLOW_ITEMS.format(
        table=table,
        copies=", ".join(columns),
        own=", ".join(f"t.{c}" for c in columns),
        values=", ".join(f"i.{c}" for c in columns.values()),
    )
    for table, columns in _FOLLOWERS.items()
]

_DROP_LINES = """
DELETE FROM {s}.product_lines l
 WHERE (l.tenant_id, l.line_item_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
   AND NOT EXISTS (SELECT 1 FROM {s}.items i WHERE i.tenant_id = l.tenant_id AND i.item_id = l.line_item_id
                                              AND i.product_id IS NOT NULL AND NOT i.deleted)"""


async def project(
    conn: Connection, schema: str, events: Sequence[Envelope], projections: Mapping[str, Projection]
) -> None:
    """Apply ``events`` in order to the tables in ``schema``; types without a projection are skipped."""
    run: list[Envelope] = []
    current: Projection | None = None
    touched: dict[tuple[str, str], None] = {}
    for event in events:
        reaction = projections.get(event.type)
        if reaction is None:
            continue
        item_id = event.data.get("item_id") or event.data.get("child_item_id")
        if isinstance(item_id, str):
            touched[(event.tenant_id, item_id)] = None
        if reaction is not current and run:
            assert current is not None
            await current(conn, schema, run)
            run = []
        current = reaction
        run.append(event)
    if run and current is not None:
        await current(conn, schema, run)
    if touched:
        tenants, ids = [t for t, _ in touched], [i for _, i in touched]
        await conn.execute(_REFRESH_LINES.format(s=schema), tenants, ids)
        await conn.execute(_DROP_LINES.format(s=schema), tenants, ids)
        for follow in _FOLLOW:
            await conn.execute(follow.format(s=schema), tenants, ids)
