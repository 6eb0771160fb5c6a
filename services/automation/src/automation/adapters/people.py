"""Who an action reaches: recipients resolved against the directory copy, absences honoured."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from conveyor_access.directory import head_of_department_of, substitute_for, users_with_role
from conveyor_messaging.db import Connection

from automation.adapters.items import ItemCopy
from automation.domain.robots import Recipient


async def resolve(
    conn: Connection, tenant_id: str, recipients: list[Recipient], item: ItemCopy, at: datetime
) -> list[str]:
    """User ids, in order and without repeats; an absent user is replaced by their substitute (a role
    skips absent holders whose substitute already holds the role: each person once)."""
    resolved: list[str] = []
    for recipient in recipients:
        for user_id in await _users(conn, tenant_id, recipient, item):
            person = await present(conn, tenant_id, user_id, at)
            if person not in resolved:
                resolved.append(person)
    return resolved


async def present(conn: Connection, tenant_id: str, user_id: str, at: datetime) -> str:
    """The user, or whoever stands in for them while they are away at ``at``."""
    return await substitute_for(conn, tenant_id, user_id, at) or user_id


async def _users(conn: Connection, tenant_id: str, recipient: Recipient, item: ItemCopy) -> list[str]:
    match recipient.kind:
        case "user":
            return [recipient.id] if recipient.id else []
        case "role":
            return await users_with_role(conn, tenant_id, recipient.id) if recipient.id else []
        case "assignee":
            return [item.assignee_id] if item.assignee_id else []
        case "creator":
            return [item.creator_id] if item.creator_id else []
        case "observers":
            return list(item.observer_ids)
        case "field":
            return users_in_field(item.fields.get(recipient.id or ""))
        case "head_of" | "head_of_assignee":
            whose = recipient.of if recipient.of is not None else Recipient(kind="assignee")
            heads = []
            for user_id in await _users(conn, tenant_id, whose, item):
                head = await head_of_department_of(conn, tenant_id, user_id)
                if head and head not in heads:
                    heads.append(head)
            return heads
    return []


def users_in_field(value: Any) -> list[str]:
    """The user ids a user field holds: one, or a list for a multiple field; empty when unset."""
    values = value if isinstance(value, list) else [value]
    return [v for v in values if isinstance(v, str) and v]


async def person(conn: Connection, tenant_id: str, user_id: str | None) -> dict[str, Any] | None:
    """A user as templates see them: id, name, first_name, last_name, email."""
    if not user_id:
        return None
    row = await conn.fetchrow(
        "SELECT user_id, name, email FROM directory_users WHERE tenant_id = $1 AND user_id = $2", tenant_id, user_id
    )
    if row is None:
        return {"id": user_id, "name": user_id, "first_name": user_id, "last_name": "", "email": None}
    first, _, last = row["name"].partition(" ")
    return {"id": user_id, "name": row["name"], "first_name": first, "last_name": last, "email": row["email"]}
