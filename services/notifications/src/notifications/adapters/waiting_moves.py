"""Stage changes that arrived before their item: the item's creation travels on another topic, and
after a restart or in a backlog the consumer may read the move first. They wait here for it."""

from __future__ import annotations

import json
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


async def take(conn: Connection, tenant_id: str, item_id: str) -> list[WaitingMove]:
    """The item's waiting moves in the order they happened, removed from the waiting room."""
    rows = await conn.fetch(
        """DELETE FROM moves_waiting_for_item WHERE tenant_id = $1 AND item_id = $2
           RETURNING event_id, moved::text, actor, occurred_at""",
        tenant_id,
        item_id,
    )
    moves = [WaitingMove(r["event_id"], json.loads(r["moved"]), r["actor"], r["occurred_at"]) for r in rows]
    return sorted(moves, key=lambda move: move.occurred_at)
