"""Reports about the flow through a pipeline: funnel, time on stages, forgotten items."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from conveyor_kit.auth import Principal
from conveyor_kit.problems import not_found
from conveyor_messaging.db import Connection

from reporting.adapters.visibility import Visibility, visibility, visibility_in_pipeline
from reporting.domain import durations
from reporting.domain.periods import Period, ratio


async def _stages(conn: Connection, tenant: str, pipeline_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT s.stage_id, s.name, s.sort, s.semantic, s.entity_type_id, d.department
             FROM projection.stages s
             LEFT JOIN stage_departments d ON d.tenant_id = s.tenant_id AND d.stage_id = s.stage_id
            WHERE s.tenant_id = $1 AND s.pipeline_id = $2 AND NOT s.deleted ORDER BY s.sort, s.stage_id""",
        tenant,
        pipeline_id,
    )
    if not rows:
        raise not_found(f"pipeline {pipeline_id} is not known to reporting")
    return [dict(r) for r in rows]


def conversion_bases(stages: list[dict[str, Any]]) -> dict[str, str]:
    """The stage each stage's conversion is counted from (docs/reporting.md): an in-progress or success stage
    from the in-progress stage before it, a failure stage from the pipeline's first stage (an item may be lost
    from any stage). The first stage has none."""
    bases: dict[str, str] = {}
    first: str | None = None
    previous: str | None = None
    for stage in stages:
        base = first if stage["semantic"] == "failure" else previous
        if base is not None:
            bases[stage["stage_id"]] = base
        if stage["semantic"] == "in_progress":
            first = first or stage["stage_id"]
            previous = stage["stage_id"]
    return bases


async def _cohorts(
    conn: Connection, principal: Principal, type_id: str, pipeline_id: str, period: Period, bases: dict[str, str]
) -> dict[str, tuple[int, int]]:
    """Per stage: the items that first entered its base stage in the period (that the caller may read), and how
    many of them entered the stage afterwards. The second is part of the first, so the ratio is at most 1."""
    if not bases:
        return {}
    seen = await visibility_in_pipeline(conn, principal, type_id, pipeline_id, assignee="v.assignee_id", first=7)
    rows = await conn.fetch(
        f"""SELECT p.target, count(*) AS cohort,
                   count(*) FILTER (WHERE EXISTS (
                       SELECT 1 FROM projection.stage_visits t
                        WHERE t.tenant_id = v.tenant_id AND t.item_id = v.item_id AND t.stage_id = p.target
                          AND t.pipeline_id = v.pipeline_id AND t.entered_at >= v.entered_at)) AS went
              FROM unnest($3::text[], $4::text[]) AS p(target, base)
              JOIN projection.stage_visits v
                ON v.tenant_id = $1 AND v.pipeline_id = $2 AND v.stage_id = p.base AND v.first_entry
               AND v.entered_at >= $5 AND v.entered_at < $6
             WHERE {seen.sql}
             GROUP BY p.target""",
        principal.tenant_id,
        pipeline_id,
        list(bases),
        list(bases.values()),
        period.start,
        period.end,
        *seen.params,
    )
    return {row["target"]: (row["cohort"], row["went"]) for row in rows}


async def funnel(conn: Connection, principal: Principal, pipeline_id: str, period: Period) -> dict[str, Any]:
    """Per stage: items that first entered it in the period, items on it now, and the share of its base stage's
    items that went on to it (``conversion_bases``)."""
    tenant = principal.tenant_id
    stages = await _stages(conn, tenant, pipeline_id)
    type_id = stages[0]["entity_type_id"]
    seen = await visibility_in_pipeline(conn, principal, type_id, pipeline_id, assignee="v.assignee_id", first=5)
    if seen.everything:  # first entries per stage and day: a few rows a day whatever the size
        reached = dict(
            await conn.fetch(
                """SELECT stage_id, sum(n)::bigint FROM projection.stage_entries
                    WHERE tenant_id = $1 AND pipeline_id = $2 AND day BETWEEN $3 AND $4 GROUP BY stage_id""",
                tenant,
                pipeline_id,
                period.first,
                period.last,
            )
        )
    else:  # a narrower viewer: first entries of the items they may read now (visits carry the assignee)
        reached = dict(
            await conn.fetch(
                f"""SELECT v.stage_id, count(*) FROM projection.stage_visits v
                     WHERE v.tenant_id = $1 AND v.pipeline_id = $2 AND v.entered_at >= $3 AND v.entered_at < $4
                       AND v.first_entry AND {seen.sql} GROUP BY v.stage_id""",
                tenant,
                pipeline_id,
                period.start,
                period.end,
                *seen.params,
            )
        )
    # On the stage now: the kept counts per stage and assignee (revision 0012), a few rows whatever the size.
    seen_now = await visibility_in_pipeline(conn, principal, type_id, pipeline_id, assignee="assignee_id", first=3)
    current = dict(
        await conn.fetch(
            f"""SELECT stage_id, sum(n)::bigint FROM projection.stage_counts
                 WHERE tenant_id = $1 AND pipeline_id = $2 AND {seen_now.sql} GROUP BY stage_id""",
            tenant,
            pipeline_id,
            *seen_now.params,
        )
    )
    bases = conversion_bases(stages)
    went_on = await _cohorts(conn, principal, type_id, pipeline_id, period, bases)
    rows = []
    for stage in stages:
        cohort, went = went_on.get(stage["stage_id"], (0, 0))
        rows.append(
            {
                "stage_id": stage["stage_id"],
                "stage": stage["name"],
                "semantic": stage["semantic"],
                "reached": int(reached.get(stage["stage_id"], 0)),
                "current": int(current.get(stage["stage_id"], 0)),
                "conversion": ratio(went, cohort) if stage["stage_id"] in bases else None,
            }
        )
    return {"pipeline_id": pipeline_id, "period": period.as_dict(), "rows": rows}


# Up to this many ended visits in a period, stage time is computed exactly from the visits.
EXACT_VISITS = durations.EXACT_VISITS

# Mean and total add up as numeric: floating-point sums depend on the order the rows come in, which a plan
# change (or a rebuild's fresh tables) changes, and the same visits must give the same figures.
_EXACT = """SELECT v.stage_id, count(*) AS visits, count(DISTINCT v.item_id) AS items,
       avg(v.duration_s::numeric)::float8 AS mean_s,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY v.duration_s) AS median_s,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY v.duration_s) AS p90_s,
       sum(v.duration_s::numeric)::float8 AS total_s
  FROM projection.stage_visits v
 WHERE v.tenant_id = $1 AND v.pipeline_id = $2 AND v.entered_at >= $3 AND v.entered_at < $4
   AND v.left_at IS NOT NULL AND {seen}
 GROUP BY v.stage_id"""


# Ended visits per stage and duration bucket, from the visits themselves (a narrower viewer's, by the
# assignee the visits carry): a hash aggregate, no sort.
_BUCKETS_OF_VISITS = """SELECT v.stage_id, reporting_duration_bucket(v.duration_s) AS bucket, count(*) AS n,
       sum(v.duration_s) AS total_s, count(*) FILTER (WHERE v.first_entry) AS firsts
  FROM projection.stage_visits v
 WHERE v.tenant_id = $1 AND v.pipeline_id = $2 AND v.entered_at >= $3 AND v.entered_at < $4
   AND v.left_at IS NOT NULL AND {seen}
 GROUP BY 1, 2"""

_BUCKETS_OF_DAYS = """SELECT stage_id, bucket, sum(n)::bigint AS n, sum(total_s) AS total_s,
       sum(firsts)::bigint AS firsts
  FROM projection.stage_durations
 WHERE tenant_id = $1 AND pipeline_id = $2 AND day BETWEEN $3 AND $4
 GROUP BY stage_id, bucket"""


async def _bucketed(
    conn: Connection, tenant: str, pipeline_id: str, period: Period, seen: Visibility
) -> dict[str, dict[str, Any]]:
    """Per stage, from duration buckets: exact visits, mean and total; median and p90 from the buckets;
    items counted as the visits that were their item's first entry into the stage."""
    if seen.everything:
        rows = await conn.fetch(_BUCKETS_OF_DAYS, tenant, pipeline_id, period.first, period.last)
    else:
        rows = await conn.fetch(
            _BUCKETS_OF_VISITS.format(seen=seen.sql), tenant, pipeline_id, period.start, period.end, *seen.params
        )
    figures: dict[str, dict[str, Any]] = {}
    for r in rows:
        f = figures.setdefault(r["stage_id"], {"visits": 0, "items": 0, "total_s": 0.0, "buckets": []})
        f["visits"] += r["n"]
        f["items"] += r["firsts"]
        f["total_s"] += r["total_s"]
        f["buckets"].append((r["bucket"], r["n"]))
    for f in figures.values():
        f["mean_s"] = f["total_s"] / f["visits"] if f["visits"] else None
        f["median_s"] = durations.percentile(f["buckets"], 0.5)
        f["p90_s"] = durations.percentile(f["buckets"], 0.9)
    return {k: f for k, f in figures.items() if f["visits"]}


async def stage_time(conn: Connection, principal: Principal, pipeline_id: str, period: Period) -> dict[str, Any]:
    """Per stage: visits that began in the period and have ended, their mean, median, p90 and total seconds;
    per department the total; the bottleneck is the stage with the largest median. Exact up to
    ``EXACT_VISITS`` ended visits the caller may read; beyond that read from duration buckets
    (``exact`` false: median and p90 within a bucket's width, items as first entries)."""
    tenant = principal.tenant_id
    stages = await _stages(conn, tenant, pipeline_id)
    seen = await visibility_in_pipeline(
        conn, principal, stages[0]["entity_type_id"], pipeline_id, assignee="v.assignee_id", first=5
    )
    figures = await _bucketed(conn, tenant, pipeline_id, period, seen)
    exact = sum(f["visits"] for f in figures.values()) <= EXACT_VISITS
    if exact:
        figures = {
            r["stage_id"]: dict(r)
            for r in await conn.fetch(
                _EXACT.format(seen=seen.sql), tenant, pipeline_id, period.start, period.end, *seen.params
            )
        }
    rows: list[dict[str, Any]] = []
    departments: dict[str, float] = {}
    for stage in stages:
        f = figures.get(stage["stage_id"])
        row = {
            "stage_id": stage["stage_id"],
            "stage": stage["name"],
            "department": stage["department"],
            "visits": f["visits"] if f else 0,
            "items": f["items"] if f else 0,
            "mean_s": f["mean_s"] if f else None,
            "median_s": f["median_s"] if f else None,
            "p90_s": f["p90_s"] if f else None,
            "total_s": f["total_s"] if f else 0.0,
        }
        rows.append(row)
        if stage["department"]:
            departments[stage["department"]] = departments.get(stage["department"], 0.0) + row["total_s"]
    timed = [r for r in rows if r["median_s"] is not None]
    bottleneck = max(timed, key=lambda r: r["median_s"])["stage_id"] if timed else None
    return {
        "pipeline_id": pipeline_id,
        "period": period.as_dict(),
        "exact": exact,
        "rows": rows,
        "departments": [{"department": d, "total_s": t} for d, t in sorted(departments.items())],
        "bottleneck_stage_id": bottleneck,
    }


async def forgotten(
    conn: Connection, principal: Principal, pipeline_id: str, days: int, now: datetime
) -> dict[str, Any]:
    """Items in progress on a stage of the pipeline with no change for ``days`` days, the longest idle first."""
    tenant = principal.tenant_id
    stages = await _stages(conn, tenant, pipeline_id)
    seen = await visibility(
        conn, principal, stages[0]["entity_type_id"], assignee="assignee_id", pipeline="pipeline_id", first=4
    )
    rows = await conn.fetch(
        f"""SELECT item_id, title, assignee_id, stage_id, greatest(changed_at, stage_entered_at) AS last_change
              FROM projection.items
             WHERE tenant_id = $1 AND pipeline_id = $2 AND stage_semantic = 'in_progress' AND NOT deleted
               AND greatest(changed_at, stage_entered_at) < $3 AND {seen.sql}
             ORDER BY last_change, item_id LIMIT 1000""",
        tenant,
        pipeline_id,
        now - timedelta(days=days),
        *seen.params,
    )
    names = {s["stage_id"]: s["name"] for s in stages}
    return {
        "pipeline_id": pipeline_id,
        "days": days,
        "rows": [
            {
                **dict(r),
                "stage": names.get(r["stage_id"]),
                "idle_days": round((now - r["last_change"]).total_seconds() / 86400, 2),
            }
            for r in rows
        ],
    }
