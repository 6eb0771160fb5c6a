"""Process analytics: time per business-process step, and where running instances wait now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from conveyor_kit.auth import Principal
from conveyor_kit.problems import not_found
from conveyor_messaging.db import Connection

from reporting.adapters.visibility import item_visibility
from reporting.domain.periods import Period

# The steps of the templates' instances whose item the caller may read ($1 tenant, $2 template ids).
_SEEN_STEPS = """FROM projection.process_steps s
  JOIN projection.process_instances p ON p.tenant_id = s.tenant_id AND p.instance_id = s.instance_id
  LEFT JOIN projection.items i ON i.tenant_id = s.tenant_id AND i.item_id = s.item_id
 WHERE s.tenant_id = $1 AND p.template_id = ANY($2::text[]) AND {seen}"""

# Steps that began in the period and have ended, as stage time counts visits.
_TIMED = f"""SELECT p.template_id, s.step, count(*) AS visits, sum(s.duration_s) AS total_seconds,
       avg(s.duration_s) AS mean_seconds,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY s.duration_s) AS median_seconds,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY s.duration_s) AS p90_seconds
  {_SEEN_STEPS} AND s.left_at IS NOT NULL AND s.entered_at >= $3 AND s.entered_at < $4
 GROUP BY 1, 2"""

# Open steps of running instances: an instance waiting at two branches of one step counts once there.
_WAITING = f"""SELECT p.template_id, s.step, count(DISTINCT s.instance_id) AS waiting, min(s.entered_at) AS since
  {_SEEN_STEPS} AND s.left_at IS NULL AND p.finished_at IS NULL
 GROUP BY 1, 2"""

# Running instances with no open step wait for something else (a timer, a message): since their last move.
_WAITING_ELSEWHERE = """SELECT p.template_id, count(*) AS waiting,
       min(greatest(p.started_at, last.left_at)) AS since
  FROM projection.process_instances p
  LEFT JOIN projection.items i ON i.tenant_id = p.tenant_id AND i.item_id = p.item_id
  CROSS JOIN LATERAL (SELECT max(s.left_at) AS left_at, bool_or(s.left_at IS NULL) AS open
                        FROM projection.process_steps s
                       WHERE s.tenant_id = p.tenant_id AND s.instance_id = p.instance_id) last
 WHERE p.tenant_id = $1 AND p.template_id = ANY($2::text[]) AND p.finished_at IS NULL
   AND NOT coalesce(last.open, false) AND {seen}
 GROUP BY 1"""


async def _templates(conn: Connection, tenant: str, entity_type_id: str, template_id: str | None) -> dict[str, str]:
    """The entity type's templates (or the one asked for) by id, each named as its newest version."""
    rows = await conn.fetch(
        """SELECT DISTINCT ON (template_id) template_id, name FROM projection.process_templates
            WHERE tenant_id = $1 AND entity_type_id = $2 AND ($3::text IS NULL OR template_id = $3)
            ORDER BY template_id, version DESC""",
        tenant,
        entity_type_id,
        template_id,
    )
    if template_id is not None and not rows:
        raise not_found(f"process template {template_id} of {entity_type_id} is not known to reporting")
    return {r["template_id"]: r["name"] for r in rows}


async def process_steps(
    conn: Connection,
    principal: Principal,
    entity_type_id: str,
    template_id: str | None,
    period: Period,
    now: datetime,
) -> dict[str, Any]:
    """Per template and step: steps that began in the period and ended (count, total, mean, median, p90
    seconds); instances waiting there now and since when. ``step`` null: instances waiting for no task."""
    tenant = principal.tenant_id
    templates = await _templates(conn, tenant, entity_type_id, template_id)
    ids = list(templates)
    seen = await item_visibility(conn, principal, entity_type_id, first=5)
    timed = await conn.fetch(_TIMED.format(seen=seen.sql), tenant, ids, period.start, period.end, *seen.params)
    # the waiting queries have no period: their visibility parameters start at $3
    now_seen = await item_visibility(conn, principal, entity_type_id, first=3)
    waiting = await conn.fetch(_WAITING.format(seen=now_seen.sql), tenant, ids, *now_seen.params)
    elsewhere = await conn.fetch(_WAITING_ELSEWHERE.format(seen=now_seen.sql), tenant, ids, *now_seen.params)
    rows: dict[tuple[str, str | None], dict[str, Any]] = {}

    def row(template: str, step: str | None) -> dict[str, Any]:
        return rows.setdefault(
            (template, step),
            {"template_id": template, "template": templates[template], "step": step, "visits": 0,
             "total_seconds": 0.0, "mean_seconds": None, "median_seconds": None, "p90_seconds": None,
             "waiting": 0, "oldest_waiting_since": None, "oldest_waiting_seconds": None},
        )  # fmt: skip

    for r in timed:
        row(r["template_id"], r["step"]).update({k: r[k] for k in r.keys() if k not in ("template_id", "step")})
    for r in [*waiting, *elsewhere]:
        row(r["template_id"], r.get("step")).update(
            waiting=r["waiting"],
            oldest_waiting_since=r["since"],
            oldest_waiting_seconds=max((now - r["since"]).total_seconds(), 0.0) if r["since"] else None,
        )
    return {
        "entity_type_id": entity_type_id,
        "template_id": template_id,
        "period": period.as_dict(),
        "rows": sorted(rows.values(), key=lambda r: (r["template"], r["template_id"], r["step"] is None, r["step"])),
    }
