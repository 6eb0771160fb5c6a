"""Time per field value: how many items hold each value of a list field now, and how long items held it."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from conveyor_kit.auth import Principal
from conveyor_messaging.db import Connection

from reporting.adapters import timing
from reporting.adapters.visibility import rights
from reporting.domain import durations
from reporting.domain.periods import OpenPeriod

# Visits that began in the period, of items out of the recycle bin that the caller may read (the visits carry
# their item's assignee, pipeline and bin mark); a visit still open counts up to now, as a stage visit's time
# runs until the item leaves the stage.
_VISITS = """SELECT v.value, coalesce(v.duration_s, greatest(date_part('epoch', $4 - v.entered_at), 0)) AS seconds
  FROM projection.field_visits v
 WHERE v.tenant_id = $1 AND v.entity_type_id = $2 AND v.field = $3 AND NOT v.item_deleted
   AND v.entered_at >= $5 AND v.entered_at < $6 AND {seen}"""

EXACT_VISITS = durations.EXACT_VISITS

# For a caller who may read every item of the type: per value and duration bucket, the ended visits of the period's
# whole months from field_durations ($7 to $8), those of the days around them from the visits, and (``open``) the
# visits still open, whose bucket is null when they began outside the period (they count as items holding the value).
_ENDED = "tenant_id = $1 AND entity_type_id = $2 AND field = $3 AND NOT item_deleted AND left_at IS NOT NULL"
_BUCKETED = f"""
WITH ended AS (
    SELECT value, bucket, n, total_s FROM projection.field_durations
     WHERE tenant_id = $1 AND entity_type_id = $2 AND field = $3
       AND month >= ($7::timestamptz AT TIME ZONE 'UTC')::date AND month < ($8::timestamptz AT TIME ZONE 'UTC')::date
    UNION ALL
    SELECT value, reporting_duration_bucket(duration_s), 1, duration_s FROM projection.field_visits
     WHERE {_ENDED} AND entered_at >= $5 AND entered_at < $7
    UNION ALL
    SELECT value, reporting_duration_bucket(duration_s), 1, duration_s FROM projection.field_visits
     WHERE {_ENDED} AND entered_at >= $8 AND entered_at < $6
)
SELECT value, bucket, sum(n)::bigint AS n, sum(total_s) AS total, false AS open FROM ended
 GROUP BY value, bucket HAVING sum(n) > 0
UNION ALL
SELECT value, CASE WHEN entered_at >= $5 AND entered_at < $6 THEN reporting_duration_bucket(seconds) END, count(*),
       sum(seconds), true
  FROM (SELECT value, entered_at, greatest(date_part('epoch', $4 - entered_at), 0) AS seconds
          FROM projection.field_visits
         WHERE tenant_id = $1 AND entity_type_id = $2 AND field = $3 AND left_at IS NULL AND NOT item_deleted) o
 GROUP BY 1, 2"""

# Items holding a value now: the open visits.
_CURRENT = """SELECT v.value, count(*) AS items
  FROM projection.field_visits v
 WHERE v.tenant_id = $1 AND v.entity_type_id = $2 AND v.field = $3 AND v.left_at IS NULL AND NOT v.item_deleted
   AND {seen}
 GROUP BY 1"""


async def field_time(
    conn: Connection, principal: Principal, entity_type_id: str, field: str, period: OpenPeriod, now: datetime
) -> dict[str, Any]:
    """Per value of ``field``: items holding it now, and its visits that began in the period (count, total,
    mean, median and p90 seconds). Exact up to ``EXACT_VISITS`` visits the caller may read; beyond, median and
    p90 are read from duration buckets (``exact`` false; within a bucket's width, about 9 %): for a caller who
    may read every item, ended visits of whole months from ``field_durations``."""
    tenant = principal.tenant_id
    may_read = await rights(conn, principal, entity_type_id)
    seen = may_read.condition(assignee="v.item_assignee_id", pipeline="v.item_pipeline_id", first=7)
    exact_or_bucketed = timing.exact_or_bucketed(_VISITS.format(seen=seen.sql), ["value"], EXACT_VISITS)
    visits = (tenant, entity_type_id, field, now, period.start, period.end)
    if seen.everything:
        rows = await conn.fetch(_BUCKETED, *visits, *period.whole_months())
        current: dict[str, int] = Counter()
        for r in rows:
            if r["open"]:
                current[r["value"]] += r["n"]
        timed = [r for r in rows if r["bucket"] is not None]
        if sum(r["n"] for r in timed) <= EXACT_VISITS:
            timed = await conn.fetch(exact_or_bucketed, *visits)
    else:
        timed = await conn.fetch(exact_or_bucketed, *visits, *seen.params)
        current_seen = may_read.condition(assignee="v.item_assignee_id", pipeline="v.item_pipeline_id", first=4)
        current = dict(
            await conn.fetch(
                _CURRENT.format(seen=current_seen.sql), tenant, entity_type_id, field, *current_seen.params
            )
        )
    exact, figures = timing.figures(timed, lambda r: str(r["value"]))
    values = []
    for value in sorted(figures.keys() | current.keys()):
        f = figures.get(value)
        values.append(
            {
                "value": value,
                "current_items": int(current.get(value, 0)),
                "visits": f["visits"] if f else 0,
                "total_seconds": f["total_seconds"] if f else 0.0,
                "mean_seconds": f["mean_seconds"] if f else None,
                "median_seconds": f["median_seconds"] if f else None,
                "p90_seconds": f["p90_seconds"] if f else None,
            }
        )
    options = await conn.fetchval(
        "SELECT options FROM projection.fields WHERE tenant_id = $1 AND entity_type_id = $2 AND code = $3",
        tenant,
        entity_type_id,
        field,
    )
    return {
        "entity_type_id": entity_type_id,
        "field": field,
        "period": period.as_dict(),
        "exact": exact,
        "values": values,
        "labels": {v["value"]: (options or {}).get(v["value"], v["value"]) for v in values},
    }
