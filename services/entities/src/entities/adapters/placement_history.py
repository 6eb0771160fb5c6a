"""Every placement of each item the pipelines service reported, with its time: read by `as_of` and
`version`, which show where the item stood then."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from conveyor_messaging.db import Connection

# (tenant, item, pipeline, stage, semantic, placement version, placed at)
Placement = tuple[str, str, str, str, str, int, datetime]

NOWHERE: dict[str, Any] = {"pipeline_id": None, "stage_id": None, "stage_semantic": None}


async def keep(conn: Connection, placements: list[Placement]) -> None:
    """Record a batch of placements in one statement; one already kept (a redelivery) is kept once, and
    items this service does not have (purged) are skipped."""
    if not placements:
        return
    await conn.execute(
        "INSERT INTO item_placements"
        " (tenant_id, item_id, placement_version, pipeline_id, stage_id, stage_semantic, placed_at)"
        " SELECT n.t, n.i, n.v, n.p, n.s, n.m, n.at"
        " FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::timestamptz[])"
        "  AS n(t, i, p, s, m, v, at)"
        " JOIN items ON items.tenant_id = n.t AND items.item_id = n.i"
        " ON CONFLICT DO NOTHING",
        *([row[n] for row in placements] for n in range(7)),
    )


async def placement_then(
    conn: Connection, tenant_id: str, item_id: str, *, at_or_before: datetime | None, before: datetime | None
) -> dict[str, Any]:
    """Where the item stood at an instant: its newest placement made by then (nowhere if none)."""
    row = await conn.fetchrow(
        "SELECT pipeline_id, stage_id, stage_semantic FROM item_placements"
        " WHERE tenant_id = $1 AND item_id = $2"
        "  AND placed_at <= coalesce($3::timestamptz, 'infinity') AND placed_at < coalesce($4::timestamptz, 'infinity')"
        " ORDER BY placement_version DESC LIMIT 1",
        tenant_id,
        item_id,
        at_or_before,
        before,
    )
    return dict(row) if row is not None else dict(NOWHERE)


async def forget(conn: Connection, tenant_id: str, item_id: str) -> None:
    """A purged item's placements go with it."""
    await conn.execute("DELETE FROM item_placements WHERE tenant_id = $1 AND item_id = $2", tenant_id, item_id)
