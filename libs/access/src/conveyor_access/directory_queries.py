"""Questions a service asks its copy of the directory: who is the viewer, what may a role do,
who holds a role, who is someone's head, who stands in for an absent user."""

from __future__ import annotations

import json
from datetime import datetime

from conveyor_messaging.db import Connection

from conveyor_access.rules import Action, Grant, Scope, Viewer

# The viewer's own departments (those they belong to or head), then every department below them.
# UNION (not UNION ALL) stops at departments already reached, so even a cycle a late event left
# in the copy cannot make the walk endless.
_VIEWER_DEPARTMENTS = """
    WITH RECURSIVE own AS (
        SELECT d.department_id
          FROM directory_departments d
         WHERE d.tenant_id = $1 AND NOT d.removed
           AND (d.head_user_id = $2
                OR d.department_id = ANY(
                    SELECT unnest(department_ids) FROM directory_users WHERE tenant_id = $1 AND user_id = $2))
    ), tree(department_id) AS (
        SELECT department_id FROM own
        UNION
        SELECT c.department_id
          FROM directory_departments c JOIN tree t ON c.parent_id = t.department_id
         WHERE c.tenant_id = $1 AND NOT c.removed
    )
    SELECT array(SELECT department_id FROM own) AS own, array(SELECT department_id FROM tree) AS tree"""


async def load_viewer(conn: Connection, tenant_id: str, user_id: str, roles: frozenset[str] | set[str]) -> Viewer:
    """The viewer with department membership resolved to user ids (their departments; and with every
    sub-department). Departments a user heads count as theirs; inactive members are still members,
    since their items stay where they were."""
    row = await conn.fetchrow(_VIEWER_DEPARTMENTS, tenant_id, user_id)
    own: list[str] = list(row["own"]) if row else []
    tree: list[str] = list(row["tree"]) if row else []
    members = await _members_by_department(conn, tenant_id, tree)
    department_users = {user for dep in own for user in members.get(dep, ())}
    tree_users = {user for users in members.values() for user in users}
    return Viewer(
        user_id=user_id,
        roles=frozenset(roles),
        department_user_ids=frozenset(department_users),
        department_tree_user_ids=frozenset(tree_users),
    )


async def _members_by_department(conn: Connection, tenant_id: str, department_ids: list[str]) -> dict[str, set[str]]:
    if not department_ids:
        return {}
    rows = await conn.fetch(
        """SELECT dep, u.user_id
             FROM directory_users u, unnest(u.department_ids) AS dep
            WHERE u.tenant_id = $1 AND u.department_ids && $2::text[] AND dep = ANY($2::text[])
           UNION
           SELECT department_id, head_user_id FROM directory_departments
            WHERE tenant_id = $1 AND department_id = ANY($2::text[]) AND head_user_id IS NOT NULL""",
        tenant_id,
        department_ids,
    )
    members: dict[str, set[str]] = {}
    for row in rows:
        members.setdefault(row[0], set()).add(row[1])
    return members


async def load_grants(conn: Connection, tenant_id: str, entity_type_id: str) -> list[Grant]:
    """Every role's grants on one entity type (type-wide and per pipeline), for ``scope_for``.

    Each line yields a grant for all four actions (those it leaves out as ``none``), so that a
    pipeline's line replaces the type-wide one; removed lines (empty maps) yield nothing."""
    rows = await conn.fetch(
        "SELECT role, pipeline_id, actions::text FROM directory_role_grants"
        " WHERE tenant_id = $1 AND entity_type_id = $2 AND actions <> '{}'::jsonb ORDER BY role, pipeline_id",
        tenant_id,
        entity_type_id,
    )
    grants: list[Grant] = []
    for role, pipeline_id, actions_json in rows:
        actions: dict[str, str] = json.loads(actions_json)
        for action in Action:
            grants.append(
                Grant(
                    role=role,
                    entity_type_id=entity_type_id,
                    action=action,
                    scope=Scope(actions.get(action.value, Scope.NONE.value)),
                    pipeline_id=pipeline_id or None,
                )
            )
    return grants


async def users_with_role(conn: Connection, tenant_id: str, role: str) -> list[str]:
    """Active users holding ``role``, by id; whom a task assigned to the role can go to."""
    rows = await conn.fetch(
        "SELECT user_id FROM directory_users WHERE tenant_id = $1 AND active AND roles @> ARRAY[$2::text]"
        " ORDER BY user_id",
        tenant_id,
        role,
    )
    return [row[0] for row in rows]


# From the user's main department upwards: the first department with a head who is not the user.
_HEAD_ABOVE = """
    WITH RECURSIVE up(department_id, parent_id, head_user_id, depth) AS (
        SELECT d.department_id, d.parent_id, d.head_user_id, 0
          FROM directory_departments d JOIN directory_users u
            ON u.tenant_id = d.tenant_id AND d.department_id = u.department_ids[1]
         WHERE d.tenant_id = $1 AND u.user_id = $2 AND NOT d.removed
        UNION ALL
        SELECT p.department_id, p.parent_id, p.head_user_id, up.depth + 1
          FROM directory_departments p JOIN up ON p.department_id = up.parent_id
         WHERE p.tenant_id = $1 AND NOT p.removed AND up.depth < 64
    )
    SELECT head_user_id FROM up
     WHERE head_user_id IS NOT NULL AND head_user_id <> $2
       AND NOT EXISTS (SELECT 1 FROM directory_users h
                        WHERE h.tenant_id = $1 AND h.user_id = up.head_user_id AND NOT h.active)
     ORDER BY depth LIMIT 1"""


async def head_of_department_of(conn: Connection, tenant_id: str, user_id: str) -> str | None:
    """The head of the user's main department; for its own head (or a department without an active
    head), the head of the nearest department above. None when nobody is above the user."""
    head: str | None = await conn.fetchval(_HEAD_ABOVE, tenant_id, user_id)
    return head


async def substitute_for(conn: Connection, tenant_id: str, user_id: str, at: datetime) -> str | None:
    """Who does an absent user's work at ``at``: their substitute, or the substitute's if they are away
    too, and so on. None when the user is not away, or the chain ends at someone away without a
    substitute, or comes back to someone already in it."""
    seen = {user_id}
    current = user_id
    while True:
        absence = await conn.fetchrow(
            "SELECT substitute_user_id FROM directory_absences"
            " WHERE tenant_id = $1 AND user_id = $2 AND NOT cancelled AND starts_at <= $3 AND $3 < ends_at"
            " ORDER BY starts_at DESC, absence_id LIMIT 1",
            tenant_id,
            current,
            at,
        )
        if absence is None:
            return None if current == user_id else current
        substitute: str | None = absence[0]
        if substitute is None or substitute in seen:
            return None
        seen.add(substitute)
        current = substitute
