"""Time per field value: how many items hold each value of a list field now, and how long items held it."""

from __future__ import annotations

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
_VISITS = """SELECT v.value, coalesce(v.duration_s, greatest(extract(epoch FROM $4 - v.entered_at), 0)) AS seconds
  FROM projection.field_visits v
 WHERE v.tenant_id = $1 AND v.entity_type_id = $2 AND v.field = $3 AND NOT v.item_deleted
   AND v.entered_at >= $5 AND v.entered_at < $6 AND {seen}"""

EXACT_VISITS = durations.EXACT_VISITS

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
    p90 are read from duration buckets (``exact`` false; within a bucket's width, about 9 %)."""
    tenant = principal.tenant_id
    may_read = await rights(conn, principal, entity_type_id)
    seen = may_read.condition(assignee="v.item_assignee_id", pipeline="v.item_pipeline_id", first=7)
    timed = await conn.fetch(
        timing.exact_or_bucketed(_VISITS.format(seen=seen.sql), ["value"], EXACT_VISITS),
        *(tenant, entity_type_id, field, now, period.start, period.end, *seen.params),
    )
    exact, figures = timing.figures(timed, lambda r: str(r["value"]))
    current_seen = may_read.condition(assignee="v.item_assignee_id", pipeline="v.item_pipeline_id", first=4)
    current = dict(
        await conn.fetch(_CURRENT.format(seen=current_seen.sql), tenant, entity_type_id, field, *current_seen.params)
    )
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
