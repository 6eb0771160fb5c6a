"""Tenants' work calendars: one row each; a tenant without one works by ``work_calendar.DEFAULT``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from conveyor_messaging.db import Connection

from automation.adapters.kept_config import KEPT
from automation.adapters.rows import from_jsonb
from automation.domain.work_calendar import DEFAULT, WorkCalendar
from automation.domain.working_context import mentions_working_time


@dataclass(frozen=True, slots=True)
class SavedCalendar:
    calendar: WorkCalendar
    version: int  # 0: never saved, the default
    updated_at: datetime | None


async def load(conn: Connection, tenant_id: str, *, lock: bool = False) -> SavedCalendar:
    row = await conn.fetchrow(
        "SELECT calendar, version, updated_at FROM work_calendars WHERE tenant_id = $1"
        + (" FOR UPDATE" if lock else ""),
        tenant_id,
    )
    if row is None:
        return SavedCalendar(DEFAULT, 0, None)
    calendar = WorkCalendar.model_validate(from_jsonb(row["calendar"]))
    return SavedCalendar(calendar, row["version"], row["updated_at"])


async def calendar_of(conn: Connection, tenant_id: str, *, generation: str | None = None) -> WorkCalendar:
    """The tenant's calendar. ``generation``: the tenant's, read with the item (kept_config)."""

    async def read() -> list[WorkCalendar]:
        return [(await load(conn, tenant_id)).calendar]

    [calendar] = await KEPT.read(generation, ("work_calendar", tenant_id), read)
    return calendar


async def calendar_if_mentioned(
    conn: Connection, tenant_id: str, *texts: str | None, generation: str | None = None
) -> WorkCalendar | None:
    """The tenant's calendar when one of ``texts`` (expressions, BPMN, a saved process) counts working
    time; otherwise None, and no read."""
    if not mentions_working_time(*texts):
        return None
    return await calendar_of(conn, tenant_id, generation=generation)


async def save(conn: Connection, tenant_id: str, calendar: WorkCalendar, version: int, now: datetime) -> None:
    await conn.execute(
        """
        INSERT INTO work_calendars (tenant_id, calendar, version, updated_at) VALUES ($1, $2::text::jsonb, $3, $4)
        ON CONFLICT (tenant_id) DO UPDATE
           SET calendar = EXCLUDED.calendar, version = EXCLUDED.version, updated_at = EXCLUDED.updated_at
        """,
        tenant_id,
        calendar.model_dump_json(),
        version,
        now,
    )
