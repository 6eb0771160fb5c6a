"""Calendar entries and the users' feed tokens in PostgreSQL."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from conveyor_contracts.notifications import ReminderSpec
from conveyor_messaging.db import Connection

from notifications.domain.calendar import Entry


def _entry(row: Any) -> Entry:
    return Entry(
        entry_id=row["entry_id"],
        title=row["title"],
        kind=row["kind"],
        start=row["start_at"],
        end=row["end_at"],
        description=row["description"],
        organizer_id=row["organizer_id"],
        attendee_ids=tuple(row["attendee_ids"]),
        item_id=row["item_id"],
        entity_type_id=row["entity_type_id"],
        reminders=tuple(ReminderSpec.model_validate(r) for r in json.loads(row["reminders"])),
        status=row["status"],
        version=row["version"],
        updated_at=row["updated_at"],
        time_zone=row["time_zone"],
    )


async def load(conn: Connection, tenant_id: str, entry_id: str, *, for_update: bool = False) -> Entry | None:
    lock = " FOR UPDATE" if for_update else ""
    row = await conn.fetchrow(
        f"SELECT * FROM calendar_entries WHERE tenant_id = $1 AND entry_id = $2{lock}", tenant_id, entry_id
    )
    return _entry(row) if row else None


async def save(conn: Connection, tenant_id: str, entry: Entry, now: datetime) -> None:
    await conn.execute(
        """INSERT INTO calendar_entries (tenant_id, entry_id, title, description, kind, start_at, end_at, organizer_id,
                                         attendee_ids, item_id, entity_type_id, reminders, status, version,
                                         created_at, updated_at, time_zone)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12::jsonb, $13, $14, $15, $15, $16)
           ON CONFLICT (tenant_id, entry_id) DO UPDATE SET
               title = EXCLUDED.title, description = EXCLUDED.description, kind = EXCLUDED.kind,
               start_at = EXCLUDED.start_at, end_at = EXCLUDED.end_at, attendee_ids = EXCLUDED.attendee_ids,
               reminders = EXCLUDED.reminders, status = EXCLUDED.status, version = EXCLUDED.version,
               updated_at = EXCLUDED.updated_at, time_zone = EXCLUDED.time_zone""",
        tenant_id,
        entry.entry_id,
        entry.title,
        entry.description,
        entry.kind,
        entry.start,
        entry.end,
        entry.organizer_id,
        list(entry.attendee_ids),
        entry.item_id,
        entry.entity_type_id,
        json.dumps([r.model_dump(mode="json", exclude_none=True) for r in entry.reminders]),
        entry.status,
        entry.version,
        now,
        entry.time_zone or "UTC",
    )


async def of_user(
    conn: Connection, tenant_id: str, user_id: str, *, start: datetime | None, end: datetime | None, cancelled: bool
) -> list[Entry]:
    """The user's entries (as organizer or attendee) that share time with [start, end)."""
    rows = await conn.fetch(
        """SELECT * FROM calendar_entries
            WHERE tenant_id = $1 AND (organizer_id = $2 OR $2 = ANY(attendee_ids))
              AND ($3::timestamptz IS NULL OR end_at > $3) AND ($4::timestamptz IS NULL OR start_at < $4)
              AND ($5 OR status <> 'cancelled')
            ORDER BY start_at, entry_id LIMIT 5000""",
        tenant_id,
        user_id,
        start,
        end,
        cancelled,
    )
    return [_entry(r) for r in rows]


async def page_of_user(
    conn: Connection,
    tenant_id: str,
    user_id: str,
    *,
    start: datetime | None,
    end: datetime | None,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[Entry]:
    """The user's scheduled entries sharing time with [start, end), by start then id, those after ``after``."""
    rows = await conn.fetch(
        """SELECT * FROM calendar_entries
            WHERE tenant_id = $1 AND (organizer_id = $2 OR $2 = ANY(attendee_ids)) AND status <> 'cancelled'
              AND ($3::timestamptz IS NULL OR end_at > $3) AND ($4::timestamptz IS NULL OR start_at < $4)
              AND ($5::timestamptz IS NULL OR (start_at, entry_id) > ($5, $6))
            ORDER BY start_at, entry_id LIMIT $7""",
        tenant_id,
        user_id,
        start,
        end,
        after[0] if after else None,
        after[1] if after else "",
        limit,
    )
    return [_entry(r) for r in rows]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue_feed(conn: Connection, tenant_id: str, user_id: str, token: str, now: datetime) -> None:
    """A new feed token for the user; the previous one stops working."""
    await revoke_feed(conn, tenant_id, user_id, now)
    await conn.execute(
        "INSERT INTO calendar_feeds (token_hash, tenant_id, user_id, created_at) VALUES ($1, $2, $3, $4)",
        token_hash(token),
        tenant_id,
        user_id,
        now,
    )


async def revoke_feed(conn: Connection, tenant_id: str, user_id: str, now: datetime) -> bool:
    status = await conn.execute(
        "UPDATE calendar_feeds SET revoked_at = $3 WHERE tenant_id = $1 AND user_id = $2 AND revoked_at IS NULL",
        tenant_id,
        user_id,
        now,
    )
    return str(status) != "UPDATE 0"


async def feed_owner(conn: Connection, token: str) -> tuple[str, str] | None:
    row = await conn.fetchrow(
        "SELECT tenant_id, user_id FROM calendar_feeds WHERE token_hash = $1 AND revoked_at IS NULL", token_hash(token)
    )
    return (row["tenant_id"], row["user_id"]) if row else None
