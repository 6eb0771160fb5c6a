"""Process analytics: time per business-process step, and where running instances wait now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from conveyor_kit.auth import Principal
from conveyor_kit.problems import not_found
from conveyor_messaging.db import Connection

from reporting.adapters import timing
from reporting.adapters.visibility import rights
from reporting.domain import durations
from reporting.domain.periods import Period

# Steps of the templates ($2) that began in the period and have ended, as stage time counts visits; a step
# carries its template and its item's assignee and pipeline, so no instance or item is joined.
_ENDED = """SELECT s.template_id, s.step, s.duration_s AS seconds
  FROM projection.process_steps s
 WHERE s.tenant_id = $1 AND s.template_id = ANY($2::text[]) AND s.left_at IS NOT NULL
   AND s.entered_at >= $3 AND s.entered_at < $4 AND {seen}"""

EXACT_VISITS = durations.EXACT_VISITS

# Open steps (a step is closed when its instance ends): an instance waiting at two branches of one step counts
# once there.
_WAITING = """SELECT s.template_id, s.step, count(DISTINCT s.instance_id) AS waiting, min(s.entered_at) AS since
  FROM projection.process_steps s
 WHERE s.tenant_id = $1 AND s.template_id = ANY($2::text[]) AND s.left_at IS NULL AND {seen}
 GROUP BY 1, 2"""

# Running instances with no open step wait for something else (a timer, a message): since their last move.
_WAITING_ELSEWHERE = """SELECT p.template_id, count(*) AS waiting,
       min(greatest(p.started_at, (SELECT max(s.left_at) FROM projection.process_steps s
                                    WHERE s.tenant_id = p.tenant_id AND s.instance_id = p.instance_id))) AS since
  FROM projection.process_instances p
 WHERE p.tenant_id = $1 AND p.template_id = ANY($2::text[]) AND p.finished_at IS NULL
   AND NOT EXISTS (SELECT 1 FROM projection.process_steps o
                    WHERE o.tenant_id = p.tenant_id AND o.instance_id = p.instance_id AND o.left_at IS NULL)
   AND {seen}
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
    seconds; beyond ``EXACT_VISITS`` steps median and p90 from duration buckets, ``exact`` false); instances
    waiting there now and since when. ``step`` null: instances waiting for no task."""
    tenant = principal.tenant_id
    templates = await _templates(conn, tenant, entity_type_id, template_id)
    ids = list(templates)
    may_read = await rights(conn, principal, entity_type_id)
    seen = may_read.condition(assignee="s.item_assignee_id", pipeline="s.item_pipeline_id", first=5)
    ended = await conn.fetch(
        timing.exact_or_bucketed(_ENDED.format(seen=seen.sql), ["template_id", "step"], EXACT_VISITS),
        *(tenant, ids, period.start, period.end, *seen.params),
    )
    exact, timed = timing.figures(ended, lambda r: (r["template_id"], r["step"]))
    # the waiting queries have no period: their conditions' parameters start at $3
    seen = may_read.condition(assignee="s.item_assignee_id", pipeline="s.item_pipeline_id", first=3)
    waiting = await conn.fetch(_WAITING.format(seen=seen.sql), tenant, ids, *seen.params)
    seen = may_read.condition(assignee="p.item_assignee_id", pipeline="p.item_pipeline_id", first=3)
    elsewhere = await conn.fetch(_WAITING_ELSEWHERE.format(seen=seen.sql), tenant, ids, *seen.params)
    rows: dict[tuple[str, str | None], dict[str, Any]] = {}

    def row(template: str, step: str | None) -> dict[str, Any]:
        return rows.setdefault(
            (template, step),
            {"template_id": template, "template": templates[template], "step": step, "visits": 0,
             "total_seconds": 0.0, "mean_seconds": None, "median_seconds": None, "p90_seconds": None,
             "waiting": 0, "oldest_waiting_since": None, "oldest_waiting_seconds": None},
        )  # fmt: skip

    for (template, step), figures in timed.items():
        row(template, step).update(figures)
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
        "exact": exact,
        "rows": sorted(rows.values(), key=lambda r: (r["template"], r["template_id"], r["step"] is None, r["step"])),
    }
