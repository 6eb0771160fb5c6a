"""Reactions that keep each item's current state (values, recycle bin, parent deal, catalogue product)."""

from collections.abc import Sequence
from typing import Any

from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope

from reporting.handlers import fields, new_value, rows_json

_SYSTEM = ("title", "assignee_id", "amount", "currency")

_CREATE = """
WITH r AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(tenant_id text, item_id text, entity_type_id text, title text,
        assignee_id text, amount numeric, currency text, fields jsonb, at timestamptz)
), ins AS (
    INSERT INTO {s}.items AS i (tenant_id, item_id, entity_type_id, title, assignee_id, amount, currency, fields,
                                created_at, changed_at)
    SELECT tenant_id, item_id, entity_type_id, title, assignee_id, amount, currency, coalesce(fields, '{{}}'), at, at
      FROM r
    ON CONFLICT (tenant_id, item_id) DO UPDATE
    SET entity_type_id = excluded.entity_type_id, title = excluded.title, assignee_id = excluded.assignee_id,
        amount = excluded.amount, currency = excluded.currency, fields = excluded.fields,
        created_at = excluded.created_at, changed_at = greatest(i.changed_at, excluded.changed_at)
)
INSERT INTO {s}.daily_counters AS c (tenant_id, day, entity_type_id, pipeline_id, stage_id, assignee_id, metric, n,
                                     amount)
SELECT tenant_id, (at AT TIME ZONE 'UTC')::date, entity_type_id, '', '', coalesce(assignee_id, ''), 'created',
       count(*), coalesce(sum(amount), 0)
  FROM r GROUP BY 1, 2, 3, 6
ON CONFLICT (tenant_id, entity_type_id, metric, day, pipeline_id, stage_id, assignee_id) DO UPDATE
SET n = c.n + excluded.n, amount = c.amount + excluded.amount"""


async def when_items_created_record_them(conn: Connection, s: str, events: Sequence[Envelope]) -> None:
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    for event in events:
        d = event.data
        rows[(event.tenant_id, d["item_id"])] = {
            "tenant_id": event.tenant_id,
            "item_id": d["item_id"],
            "entity_type_id": d["entity_type_id"],
            "title": d.get("title", ""),
            "assignee_id": d.get("assignee_id"),
            "amount": d.get("amount"),
            "currency": d.get("currency"),
            "fields": d.get("fields") or {},
            "at": event.time.isoformat(),
        }
    await conn.execute(_CREATE.format(s=s), rows_json(list(rows.values())))
    await _assign_visits(conn, s, [(r["tenant_id"], r["item_id"]) for r in rows.values()])


# Visits carry their item's current assignee (a narrow viewer's reports read them without the items).
_ASSIGN_VISITS = """
UPDATE {s}.stage_visits v SET assignee_id = i.assignee_id
  FROM {s}.items i
 WHERE (i.tenant_id, i.item_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
   AND v.tenant_id = i.tenant_id AND v.item_id = i.item_id AND v.assignee_id IS DISTINCT FROM i.assignee_id"""


async def _assign_visits(conn: Connection, s: str, items: list[tuple[str, str]]) -> None:
    if items:
        await conn.execute(_ASSIGN_VISITS.format(s=s), [t for t, _ in items], [i for _, i in items])


_UPDATE = """
UPDATE {s}.items i SET
    title = CASE WHEN r.p ? 'title' THEN coalesce(r.p->>'title', '') ELSE i.title END,
    assignee_id = CASE WHEN r.p ? 'assignee_id' THEN r.p->>'assignee_id' ELSE i.assignee_id END,
    amount = CASE WHEN r.p ? 'amount' THEN (r.p->>'amount')::numeric ELSE i.amount END,
    currency = CASE WHEN r.p ? 'currency' THEN r.p->>'currency' ELSE i.currency END,
    fields = i.fields || r.f,
    changed_at = greatest(i.changed_at, r.at)
  FROM jsonb_to_recordset($1::jsonb) AS r(tenant_id text, item_id text, p jsonb, f jsonb, at timestamptz)
 WHERE i.tenant_id = r.tenant_id AND i.item_id = r.item_id"""


async def when_items_updated_follow_their_values(conn: Connection, s: str, events: Sequence[Envelope]) -> None:
    # Several updates of one item in a run fold into one patch: UPDATE ... FROM applies one row per item.
    patches: dict[tuple[str, str], dict[str, Any]] = {}
    for event in events:
        key = (event.tenant_id, event.data["item_id"])
        patch = patches.setdefault(key, {"tenant_id": key[0], "item_id": key[1], "p": {}, "f": {}})
        for name, change in event.data.get("changes", {}).items():
            if name.startswith("fields."):
                patch["f"][name.removeprefix("fields.")] = new_value(change)
            elif name in _SYSTEM:
                patch["p"][name] = new_value(change)
        patch["at"] = event.time.isoformat()
    await conn.execute(_UPDATE.format(s=s), rows_json(list(patches.values())))
    await _assign_visits(conn, s, [k for k, p in patches.items() if "assignee_id" in p["p"]])


async def when_items_binned_or_restored_mark_them(conn: Connection, s: str, events: Sequence[Envelope]) -> None:
    rows = [
        {"tenant_id": e.tenant_id, "item_id": e.data["item_id"], "deleted": e.type.endswith(".deleted.v1")}
        for e in events
    ]
    last = list({(r["tenant_id"], r["item_id"]): r for r in rows}.values())
    await conn.execute(
        f"""UPDATE {s}.items i SET deleted = r.deleted
              FROM jsonb_to_recordset($1::jsonb) AS r(tenant_id text, item_id text, deleted boolean)
             WHERE i.tenant_id = r.tenant_id AND i.item_id = r.item_id""",
        rows_json(last),
    )
    await fields.mark_visits_of_binned_items(conn, s, last)


# A purged item's visits leave the duration buckets they were counted in.
_FORGET_DURATIONS = """
WITH gone AS (
    DELETE FROM {s}.stage_visits WHERE (tenant_id, item_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
    RETURNING tenant_id, pipeline_id, stage_id, entered_at, duration_s, first_entry, left_at
), counted AS (
    SELECT tenant_id, pipeline_id, (entered_at AT TIME ZONE 'UTC')::date AS day, stage_id,
           reporting_duration_bucket(duration_s) AS bucket, count(*) AS n, sum(duration_s) AS total_s,
           count(*) FILTER (WHERE first_entry) AS firsts
      FROM gone WHERE left_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5
)
UPDATE {s}.stage_durations d SET n = d.n - c.n, total_s = d.total_s - c.total_s, firsts = d.firsts - c.firsts
  FROM counted c
 WHERE d.tenant_id = c.tenant_id AND d.pipeline_id = c.pipeline_id AND d.day = c.day AND d.stage_id = c.stage_id
   AND d.bucket = c.bucket"""


async def when_items_purged_forget_them(conn: Connection, s: str, events: Sequence[Envelope]) -> None:
    tenants = [e.tenant_id for e in events]
    ids = [e.data["item_id"] for e in events]
    await conn.execute(_FORGET_DURATIONS.format(s=s), tenants, ids)
    await fields.forget_visits_of_purged_items(conn, s, tenants, ids)
    forgotten = (
        ("items", "item_id"),
        ("product_lines", "line_item_id"),
        ("process_steps", "item_id"),
        ("process_instances", "item_id"),
    )
    for table, column in forgotten:
        await conn.execute(
            f"DELETE FROM {s}.{table} WHERE ({table}.tenant_id, {table}.{column}) IN"
            " (SELECT * FROM unnest($1::text[], $2::text[]))",
            tenants,
            ids,
        )


async def when_items_linked_remember_the_parent(conn: Connection, s: str, events: Sequence[Envelope]) -> None:
    for event in events:
        d = event.data
        if event.type.endswith(".linked.v1"):
            await conn.execute(
                f"""INSERT INTO {s}.items (tenant_id, item_id, parent_item_id) VALUES ($1, $2, $3)
                    ON CONFLICT (tenant_id, item_id) DO UPDATE SET parent_item_id = $3""",
                event.tenant_id,
                d["child_item_id"],
                d["parent_item_id"],
            )
        else:
            await conn.execute(
                f"UPDATE {s}.items SET parent_item_id = NULL WHERE tenant_id = $1 AND item_id = $2"
                " AND parent_item_id = $3",
                event.tenant_id,
                d["child_item_id"],
                d["parent_item_id"],
            )


async def when_items_bound_to_products_remember_them(conn: Connection, s: str, events: Sequence[Envelope]) -> None:
    for event in events:
        await conn.execute(
            f"""INSERT INTO {s}.items AS i (tenant_id, item_id, product_id) VALUES ($1, $2, $3)
                ON CONFLICT (tenant_id, item_id) DO UPDATE SET product_id = $3""",
            event.tenant_id,
            event.data["item_id"],
            event.data.get("product_id"),
        )
