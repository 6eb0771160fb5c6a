"""Handlers that apply the directory's events to a service's copy: idempotent, version-guarded upserts."""

from __future__ import annotations

import json

from conveyor_contracts import directory as events
from conveyor_messaging.consumer import Handler
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope

DIRECTORY_TOPICS = [
    events.UserRegistered.topic(),
    events.DepartmentCreated.topic(),
    events.AbsenceRecorded.topic(),
    events.RoleGrantsSet.topic(),
]
"""The topics a copy of the directory follows: ``conveyor.entities.{user,department,absence,role}``."""


_UPSERT_USER = """
    INSERT INTO directory_users AS u (tenant_id, user_id, name, email, department_ids, roles, active, version)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
    ON CONFLICT (tenant_id, user_id) DO UPDATE
       SET name = EXCLUDED.name, email = EXCLUDED.email, department_ids = EXCLUDED.department_ids,
           roles = EXCLUDED.roles, active = EXCLUDED.active, version = EXCLUDED.version
     WHERE u.version < EXCLUDED.version"""

_UPSERT_DEPARTMENT = """
    INSERT INTO directory_departments AS d (tenant_id, department_id, name, parent_id, head_user_id, version)
    VALUES ($1, $2, $3, $4, $5, $6)
    ON CONFLICT (tenant_id, department_id) DO UPDATE
       SET name = EXCLUDED.name, parent_id = EXCLUDED.parent_id, head_user_id = EXCLUDED.head_user_id,
           version = EXCLUDED.version
     WHERE d.version < EXCLUDED.version"""


async def when_user_state_arrives_keep_it(conn: Connection, event: Envelope) -> None:
    """Registered and changed both carry the whole user: one upsert, applied only if newer."""
    contract = events.UserRegistered if event.type == events.UserRegistered.type_name else events.UserChanged
    e = contract.model_validate(event.data)
    await conn.execute(
        _UPSERT_USER,
        event.tenant_id,
        e.user_id,
        e.name,
        e.email,
        e.department_ids,
        e.roles,
        e.active,
        event.aggregate_version,
    )


async def when_user_deactivated_mark_them_inactive(conn: Connection, event: Envelope) -> None:
    e = events.UserDeactivated.model_validate(event.data)
    await conn.execute(
        "UPDATE directory_users SET active = false, version = $3"
        " WHERE tenant_id = $1 AND user_id = $2 AND version < $3",
        event.tenant_id,
        e.user_id,
        event.aggregate_version,
    )


async def when_department_state_arrives_keep_it(conn: Connection, event: Envelope) -> None:
    """Created and changed both carry the whole department: one upsert, applied only if newer."""
    contract = (
        events.DepartmentCreated if event.type == events.DepartmentCreated.type_name else events.DepartmentChanged
    )
    e = contract.model_validate(event.data)
    await conn.execute(
        _UPSERT_DEPARTMENT,
        event.tenant_id,
        e.department_id,
        e.name,
        e.parent_id,
        e.head_user_id,
        event.aggregate_version,
    )


async def when_department_removed_mark_it_removed(conn: Connection, event: Envelope) -> None:
    e = events.DepartmentRemoved.model_validate(event.data)
    await conn.execute(
        "UPDATE directory_departments SET removed = true, version = $3"
        " WHERE tenant_id = $1 AND department_id = $2 AND version < $3",
        event.tenant_id,
        e.department_id,
        event.aggregate_version,
    )


async def when_absence_recorded_keep_it(conn: Connection, event: Envelope) -> None:
    e = events.AbsenceRecorded.model_validate(event.data)
    await conn.execute(
        """INSERT INTO directory_absences AS a
                  (tenant_id, absence_id, user_id, starts_at, ends_at, substitute_user_id, reason, version)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
           ON CONFLICT (tenant_id, absence_id) DO NOTHING""",
        event.tenant_id,
        e.absence_id,
        e.user_id,
        e.starts_at,
        e.ends_at,
        e.substitute_user_id,
        e.reason,
        event.aggregate_version,
    )


async def when_absence_cancelled_mark_it_cancelled(conn: Connection, event: Envelope) -> None:
    e = events.AbsenceCancelled.model_validate(event.data)
    await conn.execute(
        "UPDATE directory_absences SET cancelled = true, version = $3"
        " WHERE tenant_id = $1 AND absence_id = $2 AND version < $3",
        event.tenant_id,
        e.absence_id,
        event.aggregate_version,
    )


async def when_role_grants_set_replace_them(conn: Connection, event: Envelope) -> None:
    e = events.RoleGrantsSet.model_validate(event.data)
    await conn.execute(
        """INSERT INTO directory_role_grants AS g (tenant_id, role, entity_type_id, pipeline_id, actions, version)
           VALUES ($1, $2, $3, $4, $5::text::jsonb, $6)
           ON CONFLICT (tenant_id, role, entity_type_id, pipeline_id) DO UPDATE
              SET actions = EXCLUDED.actions, version = EXCLUDED.version
            WHERE g.version < EXCLUDED.version""",
        event.tenant_id,
        e.role,
        e.entity_type_id,
        e.pipeline_id or "",
        json.dumps(e.actions, sort_keys=True),
        event.aggregate_version,
    )


DIRECTORY_HANDLERS: dict[str, Handler] = {
    events.UserRegistered.type_name: when_user_state_arrives_keep_it,
    events.UserChanged.type_name: when_user_state_arrives_keep_it,
    events.UserDeactivated.type_name: when_user_deactivated_mark_them_inactive,
    events.DepartmentCreated.type_name: when_department_state_arrives_keep_it,
    events.DepartmentChanged.type_name: when_department_state_arrives_keep_it,
    events.DepartmentRemoved.type_name: when_department_removed_mark_it_removed,
    events.AbsenceRecorded.type_name: when_absence_recorded_keep_it,
    events.AbsenceCancelled.type_name: when_absence_cancelled_mark_it_cancelled,
    events.RoleGrantsSet.type_name: when_role_grants_set_replace_them,
}
"""Directory event type → the handler that applies it to the read model; for a routing table."""
