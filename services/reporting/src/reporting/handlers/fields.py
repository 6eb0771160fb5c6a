"""How long items hold each value of their list fields: a visit per value held, from item created / updated.

The projector calls ``follow_values`` once per batch, after the reactions, with the batch's events in their
order: the visits are written once the items are up to date, so they copy the item's assignee, pipeline and
bin mark as they are (an item is usually placed on its pipeline in the batch that creates it).

A field is followed unless reporting knows it is not a list field: definitions travel on another topic
than items, so an item may come before its type's field; the visits of a field that turns out to be of
another kind are dropped when its definition arrives (``forget_fields_that_are_not_lists``). Only single
values are followed (a list field's value is an option id; several values are not one visit).
"""

from collections.abc import Iterable, Sequence
from typing import Any

from conveyor_contracts.entities import ItemCreated, ItemUpdated
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope

from reporting.adapters.schema import VISIT_MONTH
from reporting.handlers import new_value, rows_json

FOLLOWED_KIND = "list"
_FIELD_PREFIX = "fields."

_ROWS = """jsonb_to_recordset($1::jsonb) AS r(ord int, tenant_id text, item_id text, entity_type_id text, field text,
    value text, at timestamptz, changed boolean)"""

# Whether reporting follows the field of a row.
_FOLLOWED = f"""NOT EXISTS (SELECT 1 FROM {{s}}.fields f WHERE f.tenant_id = r.tenant_id
    AND f.entity_type_id = r.entity_type_id AND f.code = r.field AND f.kind <> '{FOLLOWED_KIND}')"""

# A new visit copies its item's assignee, pipeline and bin mark (the projector keeps them current); an item that
# is gone (purged later in the batch) gets none.
_ITEM = "JOIN {s}.items i ON i.tenant_id = r.tenant_id AND i.item_id = r.item_id"
_ITEM_COLUMNS = "item_assignee_id, item_pipeline_id, item_deleted"
_ITEM_VALUES = "i.assignee_id, i.pipeline_id, i.deleted"

# Ended visits of items out of the recycle bin are counted per month of entry, value and duration bucket:
# ``ended`` names rows (tenant_id, entity_type_id, field, value, entered_at, duration_s, sign), sign 1 to add a
# visit and -1 to take it out.
COUNT_ENDED = f"""
INSERT INTO {{s}}.field_durations AS d (tenant_id, entity_type_id, field, month, value, bucket, n, total_s)
SELECT tenant_id, entity_type_id, field, {VISIT_MONTH.format("entered_at")}, value,
       reporting_duration_bucket(duration_s), sum(sign), sum(sign * duration_s)
  FROM ended WHERE duration_s IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6
ON CONFLICT (tenant_id, entity_type_id, field, month, value, bucket) DO UPDATE
SET n = d.n + excluded.n, total_s = d.total_s + excluded.total_s"""

_ENDED = "tenant_id, entity_type_id, field, value, entered_at, duration_s"

# The open visit of each changed field ends at its first change in the batch (a new item has none to end); every
# change to a value opens a visit that ends at the field's next change in the batch, if any. The visits that ended
# are counted.
_CHANGE = f"""
WITH r AS (SELECT * FROM {_ROWS}),
first AS (
    SELECT DISTINCT ON (tenant_id, item_id, field) tenant_id, item_id, field, at FROM r WHERE changed
     ORDER BY tenant_id, item_id, field, ord
), closed AS (
    UPDATE {{s}}.field_visits v
       SET left_at = first.at, duration_s = extract(epoch FROM first.at - v.entered_at)
      FROM first
     WHERE v.tenant_id = first.tenant_id AND v.item_id = first.item_id AND v.field = first.field
       AND v.left_at IS NULL
    RETURNING v.tenant_id, v.entity_type_id, v.field, v.value, v.entered_at, v.duration_s, v.item_deleted
), opened AS (
    INSERT INTO {{s}}.field_visits (tenant_id, item_id, entity_type_id, field, value, entered_at, left_at, duration_s,
                                    {_ITEM_COLUMNS})
    SELECT r.tenant_id, r.item_id, r.entity_type_id, r.field, r.value, r.at, r.next_at,
           extract(epoch FROM r.next_at - r.at), {_ITEM_VALUES}
      FROM (SELECT *, lead(at) OVER (PARTITION BY tenant_id, item_id, field ORDER BY ord) AS next_at FROM r) r {_ITEM}
     WHERE r.value IS NOT NULL AND {_FOLLOWED}
    RETURNING {_ENDED}, item_deleted
), ended AS (
    SELECT {_ENDED}, 1 AS sign FROM closed WHERE NOT item_deleted
    UNION ALL
    SELECT {_ENDED}, 1 FROM opened WHERE NOT item_deleted
){COUNT_ENDED}"""

# A purged item's visits leave the counts.
_FORGET = f"""
WITH gone AS (
    DELETE FROM {{s}}.field_visits WHERE (tenant_id, item_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
    RETURNING {_ENDED}, item_deleted
), ended AS (SELECT {_ENDED}, -1 AS sign FROM gone WHERE NOT item_deleted){COUNT_ENDED}"""

# Binned items' visits leave the counts, restored ones' come back.
_BIN = f"""
WITH r AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(tenant_id text, item_id text, deleted boolean)),
ended AS (
    UPDATE {{s}}.field_visits v SET item_deleted = r.deleted
      FROM r WHERE v.tenant_id = r.tenant_id AND v.item_id = r.item_id AND v.item_deleted <> r.deleted
    RETURNING v.tenant_id, v.entity_type_id, v.field, v.value, v.entered_at, v.duration_s,
              CASE WHEN r.deleted THEN -1 ELSE 1 END AS sign
){COUNT_ENDED}"""


def _row(event: Envelope, ord_: int, field: str, value: object) -> dict[str, Any]:
    return {
        "ord": ord_,
        "tenant_id": event.tenant_id,
        "item_id": event.data["item_id"],
        "entity_type_id": event.data["entity_type_id"],
        "field": field,
        "value": value if isinstance(value, str) else None,
        "at": event.time.isoformat(),
        "changed": event.type == ItemUpdated.type_name,
    }


def _changes(event: Envelope) -> Iterable[tuple[str, object]]:
    """``(field, new value)`` of an item event: every value of a new item, the changed ones of an update."""
    if event.type == ItemCreated.type_name:
        return ((f, v) for f, v in (event.data.get("fields") or {}).items() if isinstance(v, str))
    if event.type == ItemUpdated.type_name:
        return (
            (name.removeprefix(_FIELD_PREFIX), new_value(change))
            for name, change in event.data.get("changes", {}).items()
            if name.startswith(_FIELD_PREFIX)
        )
    return ()


async def follow_values(conn: Connection, s: str, events: Sequence[Envelope]) -> None:
    """The visits of the values the batch's items got, in the batch's order (one event changes a field once,
    so its place in the batch orders the field's changes)."""
    rows = [_row(event, n, field, value) for n, event in enumerate(events) for field, value in _changes(event)]
    if rows:
        await conn.execute(_CHANGE.format(s=s), rows_json(rows))


async def forget_visits_of_purged_items(conn: Connection, s: str, tenants: list[str], item_ids: list[str]) -> None:
    await conn.execute(_FORGET.format(s=s), tenants, item_ids)


async def mark_visits_of_binned_items(conn: Connection, s: str, rows: list[dict[str, Any]]) -> None:
    """``rows``: ``tenant_id``, ``item_id`` and ``deleted`` (binned or restored) per item."""
    await conn.execute(_BIN.format(s=s), rows_json(rows))


async def forget_fields_that_are_not_lists(
    conn: Connection, s: str, tenant_id: str, entity_type_id: str, field: str, kind: str
) -> None:
    if kind != FOLLOWED_KIND:
        for table in ("field_visits", "field_durations"):
            await conn.execute(
                f"DELETE FROM {s}.{table} WHERE tenant_id = $1 AND entity_type_id = $2 AND field = $3",
                tenant_id,
                entity_type_id,
                field,
            )
