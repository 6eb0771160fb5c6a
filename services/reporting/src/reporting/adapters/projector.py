"""Applies a batch of events to a set of projection tables: consecutive events with the same reaction
go to it together; then the field values the items got are followed (``handlers/fields.py``), and what copies
the touched items is refreshed: the product lines of the items, and the rows that carry copies of them (lines
of a deal, field visits, process steps and instances)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from conveyor_contracts import entities, pipelines
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope

from reporting.handlers import Projection, fields

# A number field holds a number, a decimal string or a money object {"amount": ..., "currency": ...}.
_NUMBER = """(CASE jsonb_typeof(i.fields->'{0}') WHEN 'number' THEN (i.fields->>'{0}')::numeric
                  WHEN 'string' THEN nullif(i.fields->>'{0}', '')::numeric
                  WHEN 'object' THEN (i.fields->'{0}'->>'amount')::numeric END)"""

# Rows that reports filter by an item carry copies of it: a product line its deal's type, outcome, close time,
# assignee, pipeline and bin mark (the products report joins no deals); field visits, process steps and
# instances their item's assignee and pipeline (field visits get their bin mark from the bin's reaction, which
# takes them out of field_durations or puts them back).
# table: (the column naming the item, {copy: the item's column}).
_FOLLOWERS = {
    "product_lines": (
        "deal_item_id",
        {"deal_entity_type_id": "entity_type_id", "deal_outcome": "outcome", "deal_closed_at": "closed_at",
         "deal_assignee_id": "assignee_id", "deal_pipeline_id": "pipeline_id", "deal_deleted": "deleted"},
    ),
    "field_visits": ("item_id", {"item_assignee_id": "assignee_id", "item_pipeline_id": "pipeline_id"}),
    "process_steps": ("item_id", {"item_assignee_id": "assignee_id", "item_pipeline_id": "pipeline_id"}),
    "process_instances": ("item_id", {"item_assignee_id": "assignee_id", "item_pipeline_id": "pipeline_id"}),
}  # fmt: skip


def _copies(table: str, alias: str) -> tuple[str, str]:
    """The copy columns of ``table`` and the values they copy from the item ``alias`` (an item that is gone
    leaves them empty and not binned)."""
    columns = _FOLLOWERS[table][1]
    values = [f"coalesce({alias}.{c}, false)" if c == "deleted" else f"{alias}.{c}" for c in columns.values()]
    return ", ".join(columns), ", ".join(values)


_DEAL_COLUMNS, _DEAL_VALUES = _copies("product_lines", "d")

_REFRESH_LINES = f"""
INSERT INTO {{s}}.product_lines AS l (tenant_id, line_item_id, deal_item_id, product_id, name, price, quantity,
                                      {_DEAL_COLUMNS})
SELECT i.tenant_id, i.item_id, i.parent_item_id, i.product_id, i.title,
       coalesce({_NUMBER.format("price")}, 0), coalesce({_NUMBER.format("quantity")}, 0), {_DEAL_VALUES}
  FROM {{s}}.items i
  LEFT JOIN {{s}}.items d ON d.tenant_id = i.tenant_id AND d.item_id = i.parent_item_id
 WHERE (i.tenant_id, i.item_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
   AND i.product_id IS NOT NULL AND NOT i.deleted
ON CONFLICT (tenant_id, line_item_id) DO UPDATE
SET deal_item_id = excluded.deal_item_id, product_id = excluded.product_id, name = excluded.name,
    price = excluded.price, quantity = excluded.quantity,
    ({_DEAL_COLUMNS}) = ROW({_DEAL_COLUMNS.replace("deal_", "excluded.deal_")})"""

# The rows of the touched items follow them, whichever came first (a deal moved to won, reassigned, binned...).
# Product lines follow every touched item; the rows that copy only the assignee and pipeline follow the items
# whose assignee or pipeline the batch may have set (most events are moves within a pipeline, which change
# neither): field visits, which never come before their item, after a placement, a move to another pipeline or a
# reassignment; process steps and instances, which may, after the item's creation too.
_FOLLOW_ITEMS = """
UPDATE {{s}}.{table} t SET ({copies}) = ROW({values})
  FROM unnest($1::text[], $2::text[]) AS k(tenant_id, item_id)
  LEFT JOIN {{s}}.items i ON i.tenant_id = k.tenant_id AND i.item_id = k.item_id
 WHERE t.tenant_id = k.tenant_id AND t.{key} = k.item_id AND ({own}) IS DISTINCT FROM ({values})"""
_FOLLOW = {
    table: _FOLLOW_ITEMS.format(
        table=table,
        key=key,
        copies=_copies(table, "i")[0],
        own=", ".join(f"t.{c}" for c in columns),
        values=_copies(table, "i")[1],
    )
    for table, (key, columns) in _FOLLOWERS.items()
}


def _places_or_assigns(event: Envelope) -> bool:
    """Whether ``event`` may set its item's pipeline or assignee (an item's creation does not count)."""
    if event.type == pipelines.ItemPlaced.type_name:
        return True
    if event.type == pipelines.ItemMovedToStage.type_name:
        return bool(event.data.get("from_pipeline_id") != event.data.get("to_pipeline_id"))
    return event.type == entities.ItemUpdated.type_name and "assignee_id" in event.data.get("changes", {})


_DROP_LINES = """
DELETE FROM {s}.product_lines l
 WHERE (l.tenant_id, l.line_item_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
   AND NOT EXISTS (SELECT 1 FROM {s}.items i WHERE i.tenant_id = l.tenant_id AND i.item_id = l.line_item_id
                                              AND i.product_id IS NOT NULL AND NOT i.deleted)"""


PROBE_COST = 1.1


async def project(
    conn: Connection, schema: str, events: Sequence[Envelope], projections: Mapping[str, Projection]
) -> None:
    """Apply ``events`` in order to the tables in ``schema``, inside the caller's transaction; types without a
    projection are skipped."""
    # The statements below probe big tables by a batch's keys. With the default random_page_cost (4, spinning
    # disks) the planner hashes the whole of product_lines or process_instances for 1,500 keys (48 and 23 ms a
    # batch at 1M items); the projections are cached, where an index probe costs about what a sequential read
    # does (5 and 4 ms). And the planner takes a batch from `jsonb_to_recordset` or `unnest` for 10-100 rows
    # whatever its size, with statistics that lag behind tables growing faster than autovacuum analyzes them:
    # under the system benchmark it read whole tables (stage and field visits, product lines) for batches of a
    # few dozen events. Every statement here reaches rows by the batch's keys, so sequential scans are off: their
    # cost grows with the tables, a batch's should not (refreshing product lines went from 4.7 to 0.6 ms a batch).
    # Only this transaction: the reports keep their plans.
    await conn.execute(f"SET LOCAL random_page_cost = {PROBE_COST}; SET LOCAL enable_seqscan = off")
    run: list[Envelope] = []
    current: Projection | None = None
    touched: dict[tuple[str, str], None] = {}
    placed: dict[tuple[str, str], None] = {}  # placed, moved to another pipeline or reassigned
    created: dict[tuple[str, str], None] = {}
    for event in events:
        reaction = projections.get(event.type)
        if reaction is None:
            continue
        item_id = event.data.get("item_id") or event.data.get("child_item_id")
        if isinstance(item_id, str):
            touched[(event.tenant_id, item_id)] = None
            if _places_or_assigns(event):
                placed[(event.tenant_id, item_id)] = None
            elif event.type == entities.ItemCreated.type_name:
                created[(event.tenant_id, item_id)] = None
        if reaction is not current and run:
            assert current is not None
            await current(conn, schema, run)
            run = []
        current = reaction
        run.append(event)
    if run and current is not None:
        await current(conn, schema, run)
    await fields.follow_values(conn, schema, events)
    if touched:
        tenants, ids = [t for t, _ in touched], [i for _, i in touched]
        await conn.execute(_REFRESH_LINES.format(s=schema), tenants, ids)
        await conn.execute(_DROP_LINES.format(s=schema), tenants, ids)
        await conn.execute(_FOLLOW["product_lines"].format(s=schema), tenants, ids)
    for tables, items in ((["field_visits"], placed), (["process_steps", "process_instances"], placed | created)):
        if items:
            tenants, ids = [t for t, _ in items], [i for _, i in items]
            for table in tables:
                await conn.execute(_FOLLOW[table].format(s=schema), tenants, ids)
