"""The copy of items' calendar entries: which item, which kind, when it ends, whether it was cancelled."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from conveyor_messaging.db import Connection


@dataclass(frozen=True, slots=True)
class Entry:
    entry_id: str
    item_id: str
    kind: str
    end_at: datetime
    cancelled: bool


async def save(conn: Connection, tenant_id: str, entry: Entry) -> None:
    await conn.execute(
        """INSERT INTO automation_calendar_entries (tenant_id, entry_id, item_id, kind, end_at, cancelled)
           VALUES ($1, $2, $3, $4, $5, $6)
           ON CONFLICT (tenant_id, entry_id) DO UPDATE
              SET item_id = EXCLUDED.item_id, kind = EXCLUDED.kind, end_at = EXCLUDED.end_at,
                  cancelled = EXCLUDED.cancelled""",
        tenant_id,
        entry.entry_id,
        entry.item_id,
        entry.kind,
        entry.end_at,
        entry.cancelled,
    )


async def cancel(conn: Connection, tenant_id: str, entry_id: str) -> None:
    await conn.execute(
        "UPDATE automation_calendar_entries SET cancelled = true WHERE tenant_id = $1 AND entry_id = $2",
        tenant_id,
        entry_id,
    )


async def load(conn: Connection, tenant_id: str, entry_id: str) -> Entry | None:
    row = await conn.fetchrow(
        "SELECT * FROM automation_calendar_entries WHERE tenant_id = $1 AND entry_id = $2", tenant_id, entry_id
    )
    if row is None:
        return None
    return Entry(row["entry_id"], row["item_id"], row["kind"], row["end_at"], row["cancelled"])
