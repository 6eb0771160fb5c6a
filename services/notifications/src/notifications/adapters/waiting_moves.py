"""Stage changes that arrived before their item: the item's creation travels on another topic, and
after a restart or in a backlog the consumer may read the move first. They wait here for it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope


@dataclass(frozen=True, slots=True)
class WaitingMove:
    event_id: str
    moved: dict[str, Any]
    actor: str
    occurred_at: datetime


async def park(conn: Connection, event: Envelope, item_id: str) -> None:
    await conn.execute(
        """INSERT INTO moves_waiting_for_item (tenant_id, item_id, event_id, moved, actor, occurred_at)
           VALUES ($1, $2, $3, $4::text::jsonb, $5, $6) ON CONFLICT DO NOTHING""",
        event.tenant_id,
        item_id,
        event.id,
        json.dumps(event.data),
        str(event.actor),
        event.time,
    )


async def take_many(conn: Connection, items: Sequence[tuple[str, str]]) -> dict[tuple[str, str], list[WaitingMove]]:
    """The waiting moves of these (tenant, item) pairs, each item's in the order they happened,
    removed from the waiting room in one statement."""
    rows = await conn.fetch(
        """DELETE FROM moves_waiting_for_item
            WHERE (tenant_id, item_id) IN (SELECT * FROM unnest($1::text[], $2::text[]))
           RETURNING tenant_id, item_id, event_id, moved::text, actor, occurred_at""",
        [tenant for tenant, _ in items],
        [item for _, item in items],
    )
    found: dict[tuple[str, str], list[WaitingMove]] = {}
    for r in sorted(rows, key=lambda row: row["occurred_at"]):
        move = WaitingMove(r["event_id"], json.loads(r["moved"]), r["actor"], r["occurred_at"])
        found.setdefault((r["tenant_id"], r["item_id"]), []).append(move)
    return found
