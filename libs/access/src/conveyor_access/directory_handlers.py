"""Handlers that apply the directory's events to a service's copy: idempotent, version-guarded upserts."""

from __future__ import annotations

import json
from collections.abc import Sequence

from conveyor_contracts import directory as events
from conveyor_messaging.batches import route_mixed
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


async def when_users_state_arrives_keep_it(conn: Connection, events_: Sequence[Envelope]) -> None:
    """A fetch of registered and changed users in one upsert (an organisation's users arrive by the
    hundred when it is set up): per user only the newest of the fetch is offered, applied if newer."""
    newest: dict[tuple[str, str], tuple[Envelope, events.UserRegistered | events.UserChanged]] = {}
    for event in events_:
        contract = events.UserRegistered if event.type == events.UserRegistered.type_name else events.UserChanged
        user = contract.model_validate(event.data)
        key = (event.tenant_id, user.user_id)
        if key not in newest or newest[key][0].aggregate_version < event.aggregate_version:
            newest[key] = (event, user)
    rows = list(newest.values())
    await conn.execute(
        """INSERT INTO directory_users AS u (tenant_id, user_id, name, email, department_ids, roles, active, version)
           SELECT t, i, n, e, ARRAY(SELECT jsonb_array_elements_text(d::jsonb)),
                  ARRAY(SELECT jsonb_array_elements_text(r::jsonb)), a, v
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[],
                         $8::bigint[]) AS x(t, i, n, e, d, r, a, v)
           ON CONFLICT (tenant_id, user_id) DO UPDATE
              SET name = EXCLUDED.name, email = EXCLUDED.email, department_ids = EXCLUDED.department_ids,
                  roles = EXCLUDED.roles, active = EXCLUDED.active, version = EXCLUDED.version
            WHERE u.version < EXCLUDED.version""",
        [event.tenant_id for event, _ in rows],
        [user.user_id for _, user in rows],
        [user.name for _, user in rows],
        [user.email for _, user in rows],
        [json.dumps(user.department_ids) for _, user in rows],
        [json.dumps(user.roles) for _, user in rows],
        [user.active for _, user in rows],
        [event.aggregate_version for event, _ in rows],
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

DIRECTORY_HANDLE_BATCH = route_mixed(
    {
        events.UserRegistered.type_name: when_users_state_arrives_keep_it,
        events.UserChanged.type_name: when_users_state_arrives_keep_it,
    },
    {
        t: h
        for t, h in DIRECTORY_HANDLERS.items()
        if t not in (events.UserRegistered.type_name, events.UserChanged.type_name)
    },
)
"""A consumer's batch handler for ``DIRECTORY_TOPICS``: users set-based a fetch at a time, the rarer
events (departments, absences, role grants) one by one, each user's and department's order kept."""
