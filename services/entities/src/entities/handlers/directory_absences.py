"""Record and cancel absences, each with the user who stands in."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from conveyor_contracts import directory as events

from entities.adapters import directory_reads as reads
from entities.adapters.directory_store import DirectoryWriter, lock_directory
from entities.domain.directory import DirectoryNotFound, DirectoryRefusal, check_absence_period


async def record_absence(
    writer: DirectoryWriter,
    *,
    user_id: str,
    starts_at: datetime,
    ends_at: datetime,
    substitute_user_id: str | None,
    reason: str | None,
) -> dict[str, Any]:
    check_absence_period(starts_at, ends_at, user_id, substitute_user_id)
    await lock_directory(writer.conn, writer.tenant_id)
    if await reads.user(writer.conn, writer.tenant_id, user_id) is None:
        raise DirectoryRefusal("/body/user_id", f"unknown user {user_id!r}")
    if substitute_user_id is not None and not await reads.active_user_ids(
        writer.conn, writer.tenant_id, [substitute_user_id]
    ):
        raise DirectoryRefusal(
            "/body/substitute_user_id", f"{substitute_user_id!r} is not an active user of the tenant"
        )
    absence_id = uuid.uuid4().hex
    await writer.record(
        "absence",
        absence_id,
        [
            events.AbsenceRecorded(
                absence_id=absence_id,
                user_id=user_id,
                starts_at=starts_at,
                ends_at=ends_at,
                substitute_user_id=substitute_user_id,
                reason=reason,
            )
        ],
    )
    recorded = await reads.absence(writer.conn, writer.tenant_id, absence_id)
    assert recorded is not None
    return recorded


async def cancel_absence(writer: DirectoryWriter, absence_id: str) -> dict[str, Any]:
    await lock_directory(writer.conn, writer.tenant_id)
    current = await reads.absence(writer.conn, writer.tenant_id, absence_id)
    if current is None:
        raise DirectoryNotFound(f"no absence {absence_id!r}")
    if not current["cancelled"]:
        await writer.record(
            "absence", absence_id, [events.AbsenceCancelled(absence_id=absence_id, user_id=current["user_id"])]
        )
    return {**current, "cancelled": True}
