"""Reads of the directory for the HTTP API, always within one tenant."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from conveyor_messaging.db import Connection

from entities.domain.directory import UserProfile

_USER_COLUMNS = "user_id, name, email, department_ids, roles, active"


def _profile(row: Any) -> UserProfile:
    return UserProfile(
        user_id=row["user_id"],
        name=row["name"],
        email=row["email"],
        department_ids=list(row["department_ids"]),
        roles=list(row["roles"]),
        active=row["active"],
    )


async def user(conn: Connection, tenant_id: str, user_id: str) -> UserProfile | None:
    row = await conn.fetchrow(
        f"SELECT {_USER_COLUMNS} FROM directory_users WHERE tenant_id = $1 AND user_id = $2", tenant_id, user_id
    )
    return _profile(row) if row else None


async def users(
    conn: Connection,
    tenant_id: str,
    *,
    department_id: str | None,
    role: str | None,
    include_inactive: bool,
    after: tuple[str, ...] | None,
    limit: int,
) -> list[UserProfile]:
    """Users by name (then id), from the one after ``after`` (a name and an id)."""
    name, user_id = after or (None, None)
    rows = await conn.fetch(
        f"SELECT {_USER_COLUMNS} FROM directory_users WHERE tenant_id = $1"
        " AND ($2::text IS NULL OR department_ids @> ARRAY[$2::text])"
        " AND ($3::text IS NULL OR roles @> ARRAY[$3::text])"
        " AND ($4 OR active) AND ($5::text IS NULL OR (name, user_id) > ($5, $6::text))"
        " ORDER BY name, user_id LIMIT $7",
        tenant_id,
        department_id,
        role,
        include_inactive,
        name,
        user_id,
        limit,
    )
    return [_profile(row) for row in rows]


async def active_user_ids(conn: Connection, tenant_id: str, user_ids: list[str]) -> set[str]:
    rows = await conn.fetch(
        "SELECT user_id FROM directory_users WHERE tenant_id = $1 AND user_id = ANY($2::text[]) AND active",
        tenant_id,
        user_ids,
    )
    return {row[0] for row in rows}


async def departments(conn: Connection, tenant_id: str) -> list[dict[str, Any]]:
    """Every department of the tenant that is not removed, with its parent and head."""
    rows = await conn.fetch(
        "SELECT department_id, name, parent_id, head_user_id FROM directory_departments"
        " WHERE tenant_id = $1 AND NOT removed ORDER BY name, department_id",
        tenant_id,
    )
    return [dict(row) for row in rows]


async def department_page(
    conn: Connection, tenant_id: str, *, after: tuple[str, ...] | None, limit: int
) -> list[dict[str, Any]]:
    """Departments that are not removed by name (then id), from the one after ``after``."""
    name, department_id = after or (None, None)
    rows = await conn.fetch(
        "SELECT department_id, name, parent_id, head_user_id FROM directory_departments"
        " WHERE tenant_id = $1 AND NOT removed AND ($2::text IS NULL OR (name, department_id) > ($2, $3::text))"
        " ORDER BY name, department_id LIMIT $4",
        tenant_id,
        name,
        department_id,
        limit,
    )
    return [dict(row) for row in rows]


async def department_occupancy(conn: Connection, tenant_id: str, department_id: str) -> tuple[int, int]:
    """How many sub-departments and active users a department has."""
    row = await conn.fetchrow(
        """SELECT (SELECT count(*) FROM directory_departments
                    WHERE tenant_id = $1 AND parent_id = $2 AND NOT removed),
                  (SELECT count(*) FROM directory_users
                    WHERE tenant_id = $1 AND department_ids @> ARRAY[$2::text] AND active)""",
        tenant_id,
        department_id,
    )
    assert row is not None
    return int(row[0]), int(row[1])


async def absences(
    conn: Connection, tenant_id: str, *, user_id: str | None, after: tuple[datetime, str] | None, limit: int
) -> list[dict[str, Any]]:
    """Absences by start (then id), from the one after ``after`` (a start and an id)."""
    starts_at, absence_id = after or (None, None)
    rows = await conn.fetch(
        "SELECT absence_id, user_id, starts_at, ends_at, substitute_user_id, reason, cancelled"
        " FROM directory_absences WHERE tenant_id = $1 AND ($2::text IS NULL OR user_id = $2)"
        " AND ($3::timestamptz IS NULL OR (starts_at, absence_id) > ($3, $4::text))"
        " ORDER BY starts_at, absence_id LIMIT $5",
        tenant_id,
        user_id,
        starts_at,
        absence_id,
        limit,
    )
    return [dict(row) for row in rows]


async def absence(conn: Connection, tenant_id: str, absence_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT absence_id, user_id, starts_at, ends_at, substitute_user_id, reason, cancelled"
        " FROM directory_absences WHERE tenant_id = $1 AND absence_id = $2",
        tenant_id,
        absence_id,
    )
    return dict(row) if row else None


async def role_grant_lines(conn: Connection, tenant_id: str, role: str) -> list[dict[str, Any]]:
    """A role's matrix: one line per entity type (and pipeline) it has rights on."""
    rows = await conn.fetch(
        "SELECT entity_type_id, pipeline_id, actions::text FROM directory_role_grants"
        " WHERE tenant_id = $1 AND role = $2 AND actions <> '{}'::jsonb ORDER BY entity_type_id, pipeline_id",
        tenant_id,
        role,
    )
    return [{"entity_type_id": row[0], "pipeline_id": row[1] or None, "actions": json.loads(row[2])} for row in rows]
