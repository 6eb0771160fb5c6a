"""Process templates (every version) and instances (their serialised workflow) as rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conveyor_messaging.db import Connection

from automation.adapters.kept_config import KEPT
from automation.adapters.rows import from_jsonb


@dataclass(frozen=True, slots=True)
class TemplateRow:
    template_id: str
    version: int
    name: str
    process_id: str
    entity_type_id: str
    start: dict[str, Any]
    bpmn: str
    created_at: datetime
    status: str = "enabled"  # disabled: starts nothing new; deleted: gone from the API (revision 0018)


@dataclass(frozen=True, slots=True)
class InstanceRow:
    instance_id: str
    template_id: str
    template_version: int
    item_id: str
    status: str
    state: str
    started_at: datetime
    updated_at: datetime
    # The step that failed and why (``domain.processes.Failure`` as JSON), while the instance is `failed`.
    failure: dict[str, Any] | None = None
    # The message, signal and condition keys it waits for (``domain.process_events.waiting_for``, revision 0019).
    waiting_for: tuple[str, ...] = ()


def _template(row: Any) -> TemplateRow:
    return TemplateRow(
        template_id=row["template_id"], version=row["version"], name=row["name"], process_id=row["process_id"],
        entity_type_id=row["entity_type_id"], start=from_jsonb(row["start"]), bpmn=row["bpmn"],
        created_at=row["created_at"], status=row["status"],
    )  # fmt: skip


async def insert_template(conn: Connection, tenant_id: str, t: TemplateRow) -> None:
    await conn.execute(
        """INSERT INTO process_templates (tenant_id, template_id, version, name, process_id, entity_type_id, start,
                                          bpmn, created_at, status)
           VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8, $9, $10)""",
        tenant_id, t.template_id, t.version, t.name, t.process_id, t.entity_type_id, json.dumps(t.start), t.bpmn,
        t.created_at, t.status,
    )  # fmt: skip


async def set_status(conn: Connection, tenant_id: str, template_id: str, status: str) -> None:
    """Every version of the template takes the state (a running instance's version among them)."""
    await conn.execute(
        "UPDATE process_templates SET status = $3 WHERE tenant_id = $1 AND template_id = $2",
        tenant_id,
        template_id,
        status,
    )


async def load_template(
    conn: Connection, tenant_id: str, template_id: str, version: int | None = None
) -> TemplateRow | None:
    row = await conn.fetchrow(
        "SELECT template_id, version, name, process_id, entity_type_id, start, bpmn, created_at, status"
        " FROM process_templates"
        " WHERE tenant_id = $1 AND template_id = $2 AND ($3::int IS NULL OR version = $3)"
        " ORDER BY version DESC LIMIT 1",
        tenant_id,
        template_id,
        version,
    )
    return _template(row) if row else None


async def latest_templates_of_type(
    conn: Connection, tenant_id: str, entity_type_id: str, *, generation: str | None = None
) -> list[TemplateRow]:
    """The newest version of each enabled template of the type (what start rules fire). ``generation``: the
    tenant's, read with the item (kept_config)."""

    async def load() -> list[TemplateRow]:
        rows = await conn.fetch(
            "SELECT DISTINCT ON (template_id) template_id, version, name, process_id, entity_type_id, start, bpmn,"
            " created_at, status FROM process_templates WHERE tenant_id = $1 AND entity_type_id = $2"
            " AND status = 'enabled' ORDER BY template_id, version DESC",
            tenant_id,
            entity_type_id,
        )
        return [_template(row) for row in rows]

    return await KEPT.read(generation, ("latest_templates_of_type", tenant_id, entity_type_id), load)


async def latest_templates(
    conn: Connection, tenant_id: str, *, entity_type_id: str | None, after: str | None, limit: int
) -> list[TemplateRow]:
    """A page of the tenant's templates (not deleted), newest version of each, by id after ``after`` (without
    BPMN)."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (template_id) template_id, version, name, process_id, entity_type_id, start,"
        " '' AS bpmn, created_at, status FROM process_templates WHERE tenant_id = $1 AND status <> 'deleted'"
        " AND ($2::text IS NULL OR entity_type_id = $2) AND ($3::text IS NULL OR template_id > $3)"
        " ORDER BY template_id, version DESC LIMIT $4",
        tenant_id,
        entity_type_id,
        after,
        limit,
    )
    return [_template(row) for row in rows]


async def latest_template_with_process(conn: Connection, tenant_id: str, process_id: str) -> TemplateRow | None:
    """The newest template (not deleted) whose executable process is ``process_id`` (a call activity's target)."""
    row = await conn.fetchrow(
        "SELECT template_id, version, name, process_id, entity_type_id, start, bpmn, created_at, status"
        " FROM process_templates WHERE tenant_id = $1 AND process_id = $2 AND status <> 'deleted'"
        " ORDER BY created_at DESC, version DESC LIMIT 1",
        tenant_id,
        process_id,
    )
    return _template(row) if row else None


def _instance(row: Any) -> InstanceRow:
    return InstanceRow(
        instance_id=row["instance_id"], template_id=row["template_id"], template_version=row["template_version"],
        item_id=row["item_id"], status=row["status"], state=row["state"], started_at=row["started_at"],
        updated_at=row["updated_at"], failure=from_jsonb(row["failure"]) if row["failure"] is not None else None,
    )  # fmt: skip


async def save_instance(conn: Connection, tenant_id: str, i: InstanceRow) -> None:
    await conn.execute(
        """INSERT INTO process_instances (tenant_id, instance_id, template_id, template_version, item_id, status, state,
                                          started_at, updated_at, failure, waiting_for)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::jsonb, $11)
           ON CONFLICT (tenant_id, instance_id) DO UPDATE
              SET status = EXCLUDED.status, state = EXCLUDED.state, updated_at = EXCLUDED.updated_at,
                  failure = EXCLUDED.failure, waiting_for = EXCLUDED.waiting_for""",
        tenant_id, i.instance_id, i.template_id, i.template_version, i.item_id, i.status, i.state, i.started_at,
        i.updated_at, json.dumps(i.failure) if i.failure is not None else None, list(i.waiting_for),
    )  # fmt: skip


async def load_instance(
    conn: Connection, tenant_id: str, instance_id: str, *, lock: bool = False
) -> InstanceRow | None:
    row = await conn.fetchrow(
        "SELECT instance_id, template_id, template_version, item_id, status, state, started_at, updated_at, failure"
        " FROM process_instances WHERE tenant_id = $1 AND instance_id = $2" + (" FOR UPDATE" if lock else ""),
        tenant_id,
        instance_id,
    )
    return _instance(row) if row else None


async def instances_of_item(
    conn: Connection, tenant_id: str, item_id: str, *, after: tuple[datetime, str] | None = None, limit: int = 1000
) -> list[InstanceRow]:
    """The item's process instances in the order they started, those after ``after``
    (`(started_at, instance_id)` of the last one a page showed)."""
    rows = await conn.fetch(
        "SELECT instance_id, template_id, template_version, item_id, status, state, started_at, updated_at, failure"
        " FROM process_instances WHERE tenant_id = $1 AND item_id = $2"
        " AND ($3::timestamptz IS NULL OR (started_at, instance_id) > ($3, $4))"
        " ORDER BY started_at, instance_id LIMIT $5",
        tenant_id,
        item_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [_instance(row) for row in rows]


async def instances_waiting(conn: Connection, tenant_id: str, key: str, *, item_id: str | None) -> list[str]:
    """Running (or failed) instances that wait for ``key`` (``message:<name>``, ``signal:<name>``,
    ``condition``): the item's, or the whole tenant's (a signal), in the order they started."""
    rows = await conn.fetch(
        "SELECT instance_id FROM process_instances WHERE tenant_id = $1 AND waiting_for @> ARRAY[$2::text]"
        " AND status IN ('running', 'failed') AND ($3::text IS NULL OR item_id = $3)"
        " ORDER BY started_at, instance_id",
        tenant_id,
        key,
        item_id,
    )
    return [row["instance_id"] for row in rows]


async def items_with_waiting_instances(conn: Connection, items: list[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of the (tenant, item) pairs have an instance waiting for a message or a condition: one
    statement for a whole fetch of item events, so that items without such a process cost nothing more."""
    if not items:
        return set()
    rows = await conn.fetch(
        "SELECT DISTINCT p.tenant_id, p.item_id FROM unnest($1::text[], $2::text[]) AS i(tenant_id, item_id)"
        " JOIN process_instances p ON p.tenant_id = i.tenant_id AND p.item_id = i.item_id"
        " WHERE p.status IN ('running', 'failed') AND p.waiting_for <> '{}'"
        " AND EXISTS (SELECT 1 FROM unnest(p.waiting_for) AS k WHERE k NOT LIKE 'signal:%')",
        [tenant for tenant, _ in items],
        [item for _, item in items],
    )
    return {(row["tenant_id"], row["item_id"]) for row in rows}
