"""Reactions that follow business processes: templates, instances, and the steps where instances wait.

Automation publishes no event per BPMN step. The steps that take time are its user tasks: a process task
(source ``process:<instance id>``) opens a step when it is created and closes it when it is completed; an
instance's end closes the steps still open (a boundary timer cancels a task without an event). Steps and
instances travel on different topics, so either may come first: a step of an instance already ended is
closed as it is recorded, and a completion always has the last word.
"""

from collections.abc import Sequence
from typing import Any

from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope

from reporting.handlers import rows_json

PROCESS_SOURCE = "process:"
# The outcome of a step its instance's end closed (the task was never completed).
ENDED_WITH_PROCESS = "cancelled"


async def when_templates_saved_name_them(conn: Connection, s: str, events: Sequence[Envelope]) -> None:
    rows = [
        {
            "tenant_id": e.tenant_id,
            "template_id": e.data["template_id"],
            "version": e.data["version"],
            "name": e.data["name"],
            "process_id": e.data["process_id"],
            "entity_type_id": e.data["entity_type_id"],
            "at": e.time.isoformat(),
        }
        for e in events
    ]
    await conn.execute(
        f"""INSERT INTO {s}.process_templates AS t (tenant_id, template_id, version, name, process_id, entity_type_id,
                                                   saved_at)
            SELECT DISTINCT ON (tenant_id, template_id, version) * FROM jsonb_to_recordset($1::jsonb) AS r(
                tenant_id text, template_id text, version int, name text, process_id text, entity_type_id text,
                at timestamptz)
            ON CONFLICT (tenant_id, template_id, version) DO UPDATE
            SET name = excluded.name, process_id = excluded.process_id, entity_type_id = excluded.entity_type_id""",
        rows_json(rows),
    )


_INSTANCES = """
INSERT INTO {s}.process_instances AS p (tenant_id, instance_id, template_id, template_version, item_id, started_by,
                                        started_at, finished_at, end_event, item_assignee_id, item_pipeline_id)
SELECT r.*, i.assignee_id, i.pipeline_id
  FROM jsonb_to_recordset($1::jsonb) AS r(tenant_id text, instance_id text, template_id text,
       template_version int, item_id text, started_by text, started_at timestamptz, finished_at timestamptz,
       end_event text)
  LEFT JOIN {s}.items i ON i.tenant_id = r.tenant_id AND i.item_id = r.item_id
ON CONFLICT (tenant_id, instance_id) DO UPDATE
SET template_version = coalesce(excluded.template_version, p.template_version),
    started_by = coalesce(excluded.started_by, p.started_by),
    started_at = coalesce(excluded.started_at, p.started_at),
    finished_at = coalesce(excluded.finished_at, p.finished_at),
    end_event = coalesce(excluded.end_event, p.end_event)"""

# Steps still open when their instance ended were never completed (a boundary timer took over, an error end).
_CLOSE_ENDED = f"""
UPDATE {{s}}.process_steps t
   SET left_at = p.finished_at, duration_s = extract(epoch FROM p.finished_at - t.entered_at),
       outcome = '{ENDED_WITH_PROCESS}'
  FROM {{s}}.process_instances p
 WHERE (p.tenant_id, p.instance_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
   AND p.finished_at IS NOT NULL AND t.tenant_id = p.tenant_id AND t.instance_id = p.instance_id
   AND t.left_at IS NULL"""

# Steps recorded before their instance learn its template.
_NAME_STEPS = """
UPDATE {s}.process_steps t SET template_id = p.template_id
  FROM {s}.process_instances p
 WHERE (p.tenant_id, p.instance_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
   AND t.tenant_id = p.tenant_id AND t.instance_id = p.instance_id AND t.template_id IS NULL"""


async def when_processes_start_or_end_follow_them(conn: Connection, s: str, events: Sequence[Envelope]) -> None:
    # One row per instance: a run may hold both the start and the end of one instance.
    folded: dict[tuple[str, str], dict[str, Any]] = {}
    for e in events:
        d, at = e.data, e.time.isoformat()
        started = e.type.endswith(".started.v1")
        row = folded.setdefault(
            (e.tenant_id, d["instance_id"]),
            {"tenant_id": e.tenant_id, "instance_id": d["instance_id"], "template_id": d["template_id"],
             "item_id": d["item_id"], "template_version": None, "started_by": None, "started_at": None,
             "finished_at": None, "end_event": None},
        )  # fmt: skip
        if started:
            row.update(template_version=d["template_version"], started_by=d["started_by"], started_at=at)
        else:
            row.update(finished_at=at, end_event=d.get("end_event"))
    await conn.execute(_INSTANCES.format(s=s), rows_json(list(folded.values())))
    await conn.execute(_NAME_STEPS.format(s=s), [t for t, _ in folded], [i for _, i in folded])
    ended = [key for key, row in folded.items() if row["finished_at"] is not None]
    if ended:
        await conn.execute(_CLOSE_ENDED.format(s=s), [t for t, _ in ended], [i for _, i in ended])


_OPEN_STEPS = f"""
INSERT INTO {{s}}.process_steps AS t (tenant_id, task_id, instance_id, template_id, item_id, step, assignee_user_id,
                                      assignee_role, entered_at, left_at, duration_s, outcome, item_assignee_id,
                                      item_pipeline_id)
SELECT r.tenant_id, r.task_id, r.instance_id, p.template_id, r.item_id, r.step, r.assignee_user_id, r.assignee_role,
       r.at, p.finished_at, extract(epoch FROM p.finished_at - r.at),
       CASE WHEN p.finished_at IS NOT NULL THEN '{ENDED_WITH_PROCESS}' END, i.assignee_id, i.pipeline_id
  FROM jsonb_to_recordset($1::jsonb) AS r(tenant_id text, task_id text, instance_id text, item_id text, step text,
       assignee_user_id text, assignee_role text, at timestamptz)
  LEFT JOIN {{s}}.process_instances p ON p.tenant_id = r.tenant_id AND p.instance_id = r.instance_id
  LEFT JOIN {{s}}.items i ON i.tenant_id = r.tenant_id AND i.item_id = r.item_id
ON CONFLICT (tenant_id, task_id) DO NOTHING"""

# A completion is the task's last event: it closes the step even if the instance's end closed it first.
_COMPLETE_STEPS = """
UPDATE {s}.process_steps t
   SET left_at = r.at, duration_s = extract(epoch FROM r.at - t.entered_at), outcome = r.outcome
  FROM jsonb_to_recordset($1::jsonb) AS r(tenant_id text, task_id text, outcome text, at timestamptz)
 WHERE t.tenant_id = r.tenant_id AND t.task_id = r.task_id"""

_DELEGATE_STEPS = """
UPDATE {s}.process_steps t SET assignee_user_id = r.to_user_id, assignee_role = NULL
  FROM jsonb_to_recordset($1::jsonb) AS r(tenant_id text, task_id text, to_user_id text)
 WHERE t.tenant_id = r.tenant_id AND t.task_id = r.task_id"""


async def when_process_tasks_change_time_their_steps(conn: Connection, s: str, events: Sequence[Envelope]) -> None:
    """Task created / completed / delegated, in order; tasks that are not a process's are not steps."""
    opened, completed, delegated = [], [], []
    for e in events:
        d = e.data
        row = {"tenant_id": e.tenant_id, "task_id": d["task_id"], "at": e.time.isoformat()}
        if e.type.endswith(".created.v1"):
            source = d.get("source") or ""
            if source.startswith(PROCESS_SOURCE):
                opened.append(
                    {
                        **row,
                        "instance_id": source.removeprefix(PROCESS_SOURCE),
                        "item_id": d.get("item_id"),
                        "step": d["title"],
                        "assignee_user_id": d.get("assignee_user_id"),
                        "assignee_role": d.get("assignee_role"),
                    }
                )
        elif e.type.endswith(".completed.v1"):
            completed.append({**row, "outcome": d["outcome"]})
        else:
            delegated.append({**row, "to_user_id": d["to_user_id"]})
    # A task is created before it is completed or delegated, and one run never holds a task's events out of
    # order (one topic, keyed by the task): opening first, then the rest, keeps that order.
    for sql, rows in ((_OPEN_STEPS, opened), (_COMPLETE_STEPS, completed), (_DELEGATE_STEPS, delegated)):
        if rows:
            await conn.execute(sql.format(s=s), rows_json(rows))
