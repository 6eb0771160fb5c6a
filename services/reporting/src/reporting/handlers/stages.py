"""The reaction to an item entering a stage (placed or moved): a new visit, the previous one closed
with its duration, the item's current stage and outcome, and the day's counters."""

from collections.abc import Sequence
from typing import Any

from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope

from reporting.handlers import rows_json

_ROWS = """jsonb_to_recordset($1::jsonb) AS r(ord int, event_id text, tenant_id text, item_id text,
    entity_type_id text, pipeline_id text, stage_id text, semantic text, at timestamptz, actor text)"""

# A new visit is the item's first entry into the stage unless an earlier visit there exists (in the table or
# earlier in the run); it carries the item's current assignee (kept current by the item reactions) so narrow
# viewers' reports need no join. First entries into a stage count for the funnel (per assignee, and per stage
# alone in stage_entries); entries into success / failure stages are won / lost. One statement: the items are
# read once, and the new visits' first entries come from the insert itself. "No earlier visit" is a scalar
# subquery, not NOT EXISTS: the planner, taking the batch for 100 rows, turned NOT EXISTS into a hashed subplan
# that read every visit of the tenant for each batch (3,500 buffers for 11 moves under the system benchmark); a
# scalar subquery is probed row by row.
_OPEN_VISITS_AND_COUNT = f"""
WITH r AS (
    SELECT r.*, i.entity_type_id AS item_type, i.assignee_id, i.amount
      FROM {_ROWS} LEFT JOIN {{s}}.items i ON i.tenant_id = r.tenant_id AND i.item_id = r.item_id
), opened AS (
    INSERT INTO {{s}}.stage_visits (event_id, tenant_id, item_id, entity_type_id, pipeline_id, stage_id, entered_at,
                                    actor, first_entry, assignee_id)
    SELECT r.event_id, r.tenant_id, r.item_id, r.entity_type_id, r.pipeline_id, r.stage_id, r.at, r.actor,
           row_number() OVER (PARTITION BY r.tenant_id, r.item_id, r.stage_id ORDER BY r.ord) = 1
           AND (SELECT 1 FROM {{s}}.stage_visits e
                 WHERE e.tenant_id = r.tenant_id AND e.item_id = r.item_id AND e.stage_id = r.stage_id LIMIT 1) IS NULL,
           r.assignee_id
      FROM r
     ORDER BY r.ord
    ON CONFLICT (event_id) DO NOTHING
    RETURNING event_id, first_entry
), m AS (
    SELECT r.tenant_id, (r.at AT TIME ZONE 'UTC')::date AS day, coalesce(r.item_type, r.entity_type_id) AS et,
           r.pipeline_id, r.stage_id, coalesce(r.assignee_id, '') AS assignee, 'entered' AS metric, 0::numeric AS amount
      FROM r JOIN opened o ON o.event_id = r.event_id AND o.first_entry
    UNION ALL
    SELECT r.tenant_id, (r.at AT TIME ZONE 'UTC')::date, coalesce(r.item_type, r.entity_type_id), r.pipeline_id,
           '', coalesce(r.assignee_id, ''), CASE r.semantic WHEN 'success' THEN 'won' ELSE 'lost' END,
           coalesce(r.amount, 0)
      FROM r WHERE r.semantic IN ('success', 'failure')
), entries AS (
    INSERT INTO {{s}}.stage_entries AS e (tenant_id, pipeline_id, day, stage_id, n)
    SELECT tenant_id, pipeline_id, day, stage_id, count(*) FROM m WHERE metric = 'entered' GROUP BY 1, 2, 3, 4
    ON CONFLICT (tenant_id, pipeline_id, day, stage_id) DO UPDATE SET n = e.n + excluded.n
)
INSERT INTO {{s}}.daily_counters AS c (tenant_id, day, entity_type_id, pipeline_id, stage_id, assignee_id, metric, n,
                                       amount)
SELECT tenant_id, day, coalesce(et, ''), pipeline_id, stage_id, assignee, metric, count(*), sum(amount)
  FROM m GROUP BY tenant_id, day, et, pipeline_id, stage_id, assignee, metric
ON CONFLICT (tenant_id, entity_type_id, metric, day, pipeline_id, stage_id, assignee_id) DO UPDATE
SET n = c.n + excluded.n, amount = c.amount + excluded.amount"""

# Every open visit of a touched item but its last one ends when the next one began (each item's open visits found
# by its own index probe: a hash join read the whole index of open visits, dead entries included, for every
# batch); ended visits are counted per stage, day of entry and duration bucket.
_CLOSE_VISITS = """
WITH closed AS (
    UPDATE {s}.stage_visits v SET left_at = n.next_at, duration_s = extract(epoch FROM n.next_at - v.entered_at)
      FROM (SELECT o.seq, lead(o.entered_at) OVER (PARTITION BY o.tenant_id, o.item_id ORDER BY o.seq) AS next_at
              FROM (SELECT DISTINCT * FROM unnest($1::text[], $2::text[]) AS k(tenant_id, item_id)) k
             CROSS JOIN LATERAL (SELECT o.seq, o.tenant_id, o.item_id, o.entered_at FROM {s}.stage_visits o
                                  WHERE o.tenant_id = k.tenant_id AND o.item_id = k.item_id AND o.left_at IS NULL) o) n
     WHERE v.seq = n.seq AND n.next_at IS NOT NULL
    RETURNING v.tenant_id, v.pipeline_id, v.stage_id, v.entered_at, v.duration_s, v.first_entry
)
INSERT INTO {s}.stage_durations AS d (tenant_id, pipeline_id, day, stage_id, bucket, n, total_s, firsts)
SELECT tenant_id, pipeline_id, (entered_at AT TIME ZONE 'UTC')::date, stage_id, reporting_duration_bucket(duration_s),
       count(*), sum(duration_s), count(*) FILTER (WHERE first_entry)
  FROM closed GROUP BY 1, 2, 3, 4, 5
ON CONFLICT (tenant_id, pipeline_id, day, stage_id, bucket) DO UPDATE
SET n = d.n + excluded.n, total_s = d.total_s + excluded.total_s, firsts = d.firsts + excluded.firsts"""

_CURRENT = f"""
INSERT INTO {{s}}.items AS i (tenant_id, item_id, entity_type_id, pipeline_id, stage_id, stage_semantic,
                              stage_entered_at, changed_at, outcome, closed_at)
SELECT tenant_id, item_id, entity_type_id, pipeline_id, stage_id, semantic, at, at,
       CASE semantic WHEN 'success' THEN 'won' WHEN 'failure' THEN 'lost' END,
       CASE WHEN semantic IN ('success', 'failure') THEN at END
  FROM {_ROWS}
ON CONFLICT (tenant_id, item_id) DO UPDATE
SET pipeline_id = excluded.pipeline_id, stage_id = excluded.stage_id, stage_semantic = excluded.stage_semantic,
    stage_entered_at = excluded.stage_entered_at, outcome = excluded.outcome, closed_at = excluded.closed_at,
    changed_at = greatest(i.changed_at, excluded.changed_at),
    entity_type_id = coalesce(i.entity_type_id, excluded.entity_type_id)"""


async def when_items_entered_stages_time_their_visits(conn: Connection, s: str, events: Sequence[Envelope]) -> None:
    rows: list[dict[str, Any]] = []
    for ord_, event in enumerate(events):
        d = event.data
        rows.append(
            {
                "ord": ord_,
                "event_id": event.id,
                "tenant_id": event.tenant_id,
                "item_id": d["item_id"],
                "entity_type_id": d.get("entity_type_id"),
                "pipeline_id": d.get("to_pipeline_id") or d.get("pipeline_id"),
                "stage_id": d.get("to_stage_id") or d.get("stage_id"),
                "semantic": d.get("to_semantic") or d.get("stage_semantic"),
                "at": d.get("moved_at") or event.time.isoformat(),
                "actor": d.get("moved_by") or str(event.actor),
            }
        )
    payload = rows_json(rows)
    await conn.execute(_OPEN_VISITS_AND_COUNT.format(s=s), payload)
    await conn.execute(_CLOSE_VISITS.format(s=s), [r["tenant_id"] for r in rows], [r["item_id"] for r in rows])
    last = {(r["tenant_id"], r["item_id"]): r for r in rows}
    await conn.execute(_CURRENT.format(s=s), rows_json(list(last.values())))
