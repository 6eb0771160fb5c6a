"""Time per field value: how many items hold each value of a list field now, and how long items held it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from conveyor_kit.auth import Principal
from conveyor_messaging.db import Connection

from reporting.adapters.visibility import item_visibility
from reporting.domain.periods import OpenPeriod

# Visits that began in the period, of items out of the recycle bin that the caller may read; a visit still
# open counts up to now, as a stage visit's time runs until the item leaves the stage.
_TIMED = """SELECT v.value, count(*) AS visits, sum(d.seconds) AS total_seconds, avg(d.seconds) AS mean_seconds,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY d.seconds) AS median_seconds,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY d.seconds) AS p90_seconds
  FROM projection.field_visits v
  JOIN projection.items i ON i.tenant_id = v.tenant_id AND i.item_id = v.item_id
  CROSS JOIN LATERAL (SELECT coalesce(v.duration_s, greatest(extract(epoch FROM $4 - v.entered_at), 0)) AS seconds) d
 WHERE v.tenant_id = $1 AND v.entity_type_id = $2 AND v.field = $3 AND NOT i.deleted
   AND v.entered_at >= $5 AND v.entered_at < $6 AND {seen}
 GROUP BY v.value"""

_CURRENT = """SELECT i.fields->>$3 AS value, count(*) AS items
  FROM projection.items i
 WHERE i.tenant_id = $1 AND i.entity_type_id = $2 AND NOT i.deleted AND jsonb_typeof(i.fields->$3) = 'string'
   AND {seen}
 GROUP BY 1"""


async def field_time(
    conn: Connection, principal: Principal, entity_type_id: str, field: str, period: OpenPeriod, now: datetime
) -> dict[str, Any]:
    """Per value of ``field``: items holding it now, and its visits that began in the period (count, total,
    mean, median and p90 seconds)."""
    tenant = principal.tenant_id
    seen = await item_visibility(conn, principal, entity_type_id, first=7)
    timed = await conn.fetch(
        _TIMED.format(seen=seen.sql), tenant, entity_type_id, field, now, period.start, period.end, *seen.params
    )
    current_seen = await item_visibility(conn, principal, entity_type_id, first=4)
    current = dict(
        await conn.fetch(_CURRENT.format(seen=current_seen.sql), tenant, entity_type_id, field, *current_seen.params)
    )
    figures = {r["value"]: r for r in timed}
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
        "values": values,
        "labels": {v["value"]: (options or {}).get(v["value"], v["value"]) for v in values},
    }
