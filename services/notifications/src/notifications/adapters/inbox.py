"""Users' in-app inboxes in PostgreSQL; a new notification also wakes the live streams through pg_notify."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from conveyor_messaging.db import Connection

CHANNEL = "conveyor_inbox"  # pg_notify is delivered only when the inserting transaction commits


async def add(
    conn: Connection,
    *,
    tenant_id: str,
    notification_id: str,
    recipient_id: str,
    kind: str,
    title: str,
    body: str,
    item_id: str | None,
    entity_type_id: str | None,
    source: str | None,
    now: datetime,
) -> None:
    await conn.execute(
        """INSERT INTO inbox (tenant_id, notification_id, recipient_id, kind, title, body, item_id, entity_type_id,
                              source, created_at)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)""",
        tenant_id,
        notification_id,
        recipient_id,
        kind,
        title,
        body,
        item_id,
        entity_type_id,
        source,
        now,
    )
    wake = {"tenant_id": tenant_id, "recipient_id": recipient_id, "notification_id": notification_id}
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, json.dumps(wake))


def as_dict(row: Any) -> dict[str, Any]:
    return {
        "id": row["notification_id"],
        "kind": row["kind"],
        "title": row["title"],
        "body": row["body"],
        "item": {"item_id": row["item_id"], "entity_type_id": row["entity_type_id"]} if row["item_id"] else None,
        "source": row["source"],
        "created_at": row["created_at"],
        "read": row["read_at"] is not None,
        "read_at": row["read_at"],
    }


async def one(conn: Connection, tenant_id: str, recipient_id: str, notification_id: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT * FROM inbox WHERE tenant_id = $1 AND recipient_id = $2 AND notification_id = $3",
        tenant_id,
        recipient_id,
        notification_id,
    )
    return as_dict(row) if row else None


async def page(
    conn: Connection,
    tenant_id: str,
    recipient_id: str,
    *,
    unread_only: bool,
    limit: int,
    before: tuple[datetime, str] | None,
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """SELECT * FROM inbox
            WHERE tenant_id = $1 AND recipient_id = $2 AND (NOT $3 OR read_at IS NULL)
              AND ($4::timestamptz IS NULL OR (created_at, notification_id) < ($4, $5))
            ORDER BY created_at DESC, notification_id DESC LIMIT $6""",
        tenant_id,
        recipient_id,
        unread_only,
        before[0] if before else None,
        before[1] if before else "",
        limit,
    )
    return [as_dict(r) for r in rows]


async def unread_count(conn: Connection, tenant_id: str, recipient_id: str) -> int:
    value = await conn.fetchval(
        "SELECT count(*) FROM inbox WHERE tenant_id = $1 AND recipient_id = $2 AND read_at IS NULL",
        tenant_id,
        recipient_id,
    )
    return int(value)


async def mark_read(
    conn: Connection, tenant_id: str, recipient_id: str, ids: list[str] | None, now: datetime
) -> list[str]:
    """Mark the given notifications (or all when ``ids`` is None) read; returns the ids that changed."""
    rows = await conn.fetch(
        """UPDATE inbox SET read_at = $4
            WHERE tenant_id = $1 AND recipient_id = $2 AND read_at IS NULL
              AND ($3::text[] IS NULL OR notification_id = ANY($3))
        RETURNING notification_id""",
        tenant_id,
        recipient_id,
        ids,
        now,
    )
    return [r["notification_id"] for r in rows]
