"""Reports about results: throughput (created, won, lost), products sold, the document registry."""

from __future__ import annotations

from typing import Any

from conveyor_kit.auth import Principal
from conveyor_messaging.db import Connection

from reporting.adapters.visibility import visibility
from reporting.domain.periods import Bucket, Period, ratio


async def throughput(
    conn: Connection, principal: Principal, entity_type_id: str, period: Period, bucket: Bucket
) -> dict[str, Any]:
    """Created, won and lost per bucket; won amount per assignee with their share of the total."""
    tenant = principal.tenant_id
    seen = await visibility(conn, principal, entity_type_id, assignee="assignee_id", pipeline="pipeline_id", first=6)
    counted = await conn.fetch(
        f"""SELECT date_trunc($5, day)::date AS period, metric, sum(n)::bigint AS n, sum(amount) AS amount
              FROM projection.daily_counters
             WHERE tenant_id = $1 AND entity_type_id = $2 AND metric IN ('created', 'won', 'lost')
               AND day BETWEEN $3 AND $4 AND {seen.sql}
             GROUP BY 1, 2 ORDER BY 1""",
        tenant,
        entity_type_id,
        period.first,
        period.last,
        bucket.value,
        *seen.params,
    )
    buckets: dict[str, dict[str, Any]] = {}
    for r in counted:
        row = buckets.setdefault(
            r["period"].isoformat(),
            {"period": r["period"].isoformat(), "created": 0, "won": 0, "lost": 0, "won_amount": "0"},
        )
        row[r["metric"]] = r["n"]
    # Amounts come from the items (an item's amount may reach reporting after its move was counted): one pass
    # over the won items for both groupings, index-only through the covering index on outcome and closed_at.
    winners = []
    for r in await conn.fetch(
        f"""SELECT GROUPING(assignee_id) AS per_period, assignee_id,
                   date_trunc($5, closed_at AT TIME ZONE 'UTC')::date AS period,
                   count(*) AS won, coalesce(sum(amount), 0) AS amount FROM projection.items
             WHERE tenant_id = $1 AND entity_type_id = $2 AND outcome = 'won' AND NOT deleted
               AND closed_at >= $3 AND closed_at < $4 AND {seen.sql}
             GROUP BY GROUPING SETS ((assignee_id), (3))
             ORDER BY amount DESC, assignee_id""",
        tenant,
        entity_type_id,
        period.start,
        period.end,
        bucket.value,
        *seen.params,
    ):
        if not r["per_period"]:
            winners.append(r)
        elif (key := r["period"].isoformat()) in buckets:
            buckets[key]["won_amount"] = str(r["amount"])
    total = sum(r["amount"] for r in winners)
    return {
        "entity_type_id": entity_type_id,
        "period": period.as_dict(),
        "bucket": bucket.value,
        "rows": list(buckets.values()),
        "won_by_assignee": [
            {
                "assignee_id": r["assignee_id"],
                "won": r["won"],
                "amount": str(r["amount"]),
                "share": ratio(float(r["amount"]), float(total)),
            }
            for r in winners
        ],
    }


async def products(
    conn: Connection, principal: Principal, deal_type_id: str, period: Period, bucket: Bucket
) -> dict[str, Any]:
    """Units and amount of lines on deals won in the period, per bucket, per catalogue product and per line name."""
    seen = await visibility(
        conn, principal, deal_type_id, assignee="l.deal_assignee_id", pipeline="l.deal_pipeline_id", first=6
    )
    # The lines carry their deal's outcome, close time, assignee and pipeline: one index range, no join of deals;
    # products are named after grouping (joining the catalogue to every line took two thirds of the time). A
    # year per week is some 30,000 rows: they come sorted (lines before products, by key in code point order)
    # and with their sums as text, which halved the time spent on them in Python.
    rows = await conn.fetch(
        f"""SELECT date_trunc($5, l.deal_closed_at AT TIME ZONE 'UTC')::date AS period,
                   GROUPING(l.name) AS per_product, l.product_id, l.name,
                   sum(l.quantity)::text AS units, sum(l.price * l.quantity)::text AS amount
              FROM projection.product_lines l
             WHERE l.tenant_id = $1 AND l.deal_entity_type_id = $2 AND l.deal_outcome = 'won' AND NOT l.deal_deleted
               AND l.deal_closed_at >= $3 AND l.deal_closed_at < $4 AND {seen.sql}
             GROUP BY GROUPING SETS ((1, l.product_id), (1, l.name))
             ORDER BY 1, 2, coalesce(l.name, l.product_id) COLLATE "C"
        """,
        principal.tenant_id,
        deal_type_id,
        period.start,
        period.end,
        bucket.value,
        *seen.params,
    )
    names: dict[str, str] = dict(
        await conn.fetch(
            "SELECT product_id, name FROM projection.products WHERE tenant_id = $1 AND product_id = ANY($2::text[])",
            principal.tenant_id,
            list({r["product_id"] for r in rows if r["per_product"]}),
        )
    )
    return {
        "entity_type_id": deal_type_id,
        "period": period.as_dict(),
        "bucket": bucket.value,
        "rows": [
            {
                "period": r["period"].isoformat(),
                "by": "product" if r["per_product"] else "line",
                "key": r["product_id"] if r["per_product"] else r["name"],
                "name": (names.get(r["product_id"]) or r["product_id"]) if r["per_product"] else r["name"],
                "units": r["units"],
                "amount": r["amount"],
            }
            for r in rows
        ],
    }


async def registry(
    conn: Connection, principal: Principal, entity_type_id: str, field: str, period: Period
) -> dict[str, Any]:
    """Items created per day, assignee and value of ``field`` (list values by their labels)."""
    tenant = principal.tenant_id
    seen = await visibility(
        conn, principal, entity_type_id, assignee="i.assignee_id", pipeline="i.pipeline_id", first=6
    )
    rows = await conn.fetch(
        f"""SELECT (i.created_at AT TIME ZONE 'UTC')::date AS day, i.assignee_id, i.fields->>$5 AS value,
                   count(*) AS items
              FROM projection.items i
             WHERE i.tenant_id = $1 AND i.entity_type_id = $2 AND NOT i.deleted
               AND i.created_at >= $3 AND i.created_at < $4 AND {seen.sql}
             GROUP BY 1, 2, 3 ORDER BY 1, 2, 3""",
        tenant,
        entity_type_id,
        period.start,
        period.end,
        field,
        *seen.params,
    )
    labels: dict[str, str] = {}
    options = await conn.fetchval(
        "SELECT options FROM projection.fields WHERE tenant_id = $1 AND entity_type_id = $2 AND code = $3",
        tenant,
        entity_type_id,
        field,
    )
    if options:
        labels = options
    return {
        "entity_type_id": entity_type_id,
        "field": field,
        "period": period.as_dict(),
        "rows": [
            {
                "day": r["day"].isoformat(),
                "assignee_id": r["assignee_id"],
                "value": r["value"],
                "label": labels.get(r["value"] or "", r["value"]),
                "items": r["items"],
            }
            for r in rows
        ],
    }
