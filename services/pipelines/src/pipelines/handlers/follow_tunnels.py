"""When an item enters a stage with tunnels: move it on, or send the entities service a linked copy."""

from __future__ import annotations

import uuid
from datetime import datetime

from conveyor_contracts.entities import CreateItem
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import NO_STREAM, EventStore, NewEvent

from pipelines import follow_ups
from pipelines.adapters import items
from pipelines.adapters import tunnels as tunnel_rows
from pipelines.domain.tunnels import TUNNEL_ACTOR


async def follow_tunnels(conn: Connection, store: EventStore, entered: follow_ups.FollowTunnels) -> None:
    """Tunnels never form a cycle (refused when saved), so following them always ends."""
    tenant_id, item_id, now = entered.tenant_id, entered.item_id, entered.now
    for tunnel in await tunnel_rows.tunnels_from(conn, tenant_id, entered.stage_id):
        if tunnel.action == "move":
            onward = follow_ups.MoveThroughTunnel(
                tenant_id=tenant_id, item_id=item_id, to_stage_id=tunnel.to_stage_id, tunnel_id=tunnel.tunnel_id,
                now=now,
            )  # fmt: skip
            await follow_ups.dispatch(conn, store, onward)
            return  # the item has left this stage; its other tunnels no longer apply
        await _send_linked_copy(conn, store, tenant_id, item_id, tunnel, now)


async def _send_linked_copy(
    conn: Connection, store: EventStore, tenant_id: str, item_id: str, tunnel: tunnel_rows.Tunnel, now: datetime
) -> None:
    item = await items.load_item(conn, tenant_id, item_id)
    assert item is not None
    visit = await conn.fetchval(
        "SELECT max(visit) FROM stage_visits WHERE tenant_id = $1 AND item_id = $2", tenant_id, item_id
    )
    # One copy per visit of the stage: a redelivered move cannot make a second one.
    key = f"tunnel-{tunnel.tunnel_id}-{item_id}-{visit}"
    command = CreateItem(
        idempotency_key=key,
        item_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"conveyor:{tenant_id}:{key}")),
        entity_type_id=item.entity_type_id,
        title=item.title,
        assignee_id=item.assignee_id,
        amount=str(item.amount) if item.amount is not None else None,
        currency=item.currency,
        fields=item.fields,
        source=f"tunnel:{item_id}",
        requested_pipeline_id=tunnel.to_pipeline_id,
        requested_stage_id=tunnel.to_stage_id,
    )
    await store.append(
        conn,
        stream_id=f"command-{key}",
        tenant_id=tenant_id,
        aggregate_type="item_command",
        expected_version=NO_STREAM,
        events=[NewEvent.of(command, occurred_at=now)],
        actor=TUNNEL_ACTOR,
        now=now,
    )
