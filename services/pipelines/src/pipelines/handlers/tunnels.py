"""Save and remove tunnels; a tunnel that would close a cycle of stages is refused."""

from __future__ import annotations

import uuid
from datetime import datetime

from conveyor_contracts.pipelines import TunnelAction, TunnelRemoved, TunnelSaved
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import ANY_VERSION, NO_STREAM, EventStore, NewEvent

from pipelines.adapters import catalog
from pipelines.adapters import tunnels as tunnel_rows
from pipelines.domain import errors
from pipelines.domain.tunnels import cycle_through


async def save_tunnel(
    conn: Connection,
    store: EventStore,
    *,
    tenant_id: str,
    from_stage_id: str,
    to_stage_id: str,
    action: TunnelAction,
    actor: Actor,
    now: datetime,
) -> tunnel_rows.Tunnel:
    source = await catalog.load_stage(conn, tenant_id, from_stage_id)
    target = await catalog.load_stage(conn, tenant_id, to_stage_id)
    if source is None or target is None:
        missing = from_stage_id if source is None else to_stage_id
        raise errors.UnknownStage(f"no stage {missing}", stage_id=missing)
    source_pipeline = await catalog.pipeline_row(conn, tenant_id, source.pipeline_id)
    target_pipeline = await catalog.pipeline_row(conn, tenant_id, target.pipeline_id)
    assert source_pipeline is not None and target_pipeline is not None
    if source_pipeline["entity_type_id"] != target_pipeline["entity_type_id"]:
        raise errors.TunnelAcrossTypes("a tunnel joins pipelines of one entity type")
    # Serialise tunnel edits of a tenant, so two saves cannot close a cycle between them.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))", f"tunnels:{tenant_id}")
    existing = await tunnel_rows.all_tunnels(conn, tenant_id)
    cycle = cycle_through([(t.from_stage_id, t.to_stage_id) for t in existing], (from_stage_id, to_stage_id))
    if cycle is not None:
        names = await _names(conn, tenant_id, cycle)
        raise errors.TunnelCycle("this tunnel would close a cycle: " + " → ".join(names), cycle=cycle)
    if any(t.from_stage_id == from_stage_id and t.to_stage_id == to_stage_id for t in existing):
        raise errors.TunnelExists("a tunnel between these stages exists")
    tunnel = tunnel_rows.Tunnel(
        tunnel_id=str(uuid.uuid4()),
        entity_type_id=source_pipeline["entity_type_id"],
        from_pipeline_id=source.pipeline_id,
        from_stage_id=from_stage_id,
        to_pipeline_id=target.pipeline_id,
        to_stage_id=to_stage_id,
        action=action,
    )
    await tunnel_rows.insert_tunnel(conn, tenant_id, tunnel)
    saved = TunnelSaved(
        tunnel_id=tunnel.tunnel_id,
        entity_type_id=tunnel.entity_type_id,
        from_pipeline_id=tunnel.from_pipeline_id,
        from_stage_id=from_stage_id,
        to_pipeline_id=tunnel.to_pipeline_id,
        to_stage_id=to_stage_id,
        action=action,
    )
    await store.append(
        conn,
        stream_id=tunnel.tunnel_id,
        tenant_id=tenant_id,
        aggregate_type="tunnel",
        expected_version=NO_STREAM,
        events=[NewEvent.of(saved, occurred_at=now)],
        actor=actor,
        now=now,
    )
    return tunnel


async def remove_tunnel(
    conn: Connection, store: EventStore, *, tenant_id: str, tunnel_id: str, actor: Actor, now: datetime
) -> None:
    if await tunnel_rows.load_tunnel(conn, tenant_id, tunnel_id) is None:
        raise errors.NotFound(f"tunnel {tunnel_id} not found")
    await tunnel_rows.delete_tunnel(conn, tenant_id, tunnel_id)
    await store.append(
        conn,
        stream_id=tunnel_id,
        tenant_id=tenant_id,
        aggregate_type="tunnel",
        expected_version=ANY_VERSION,
        events=[NewEvent.of(TunnelRemoved(tunnel_id=tunnel_id), occurred_at=now)],
        actor=actor,
        now=now,
    )


async def _names(conn: Connection, tenant_id: str, stage_ids: list[str]) -> list[str]:
    names = []
    for stage_id in stage_ids:
        stage = await catalog.load_stage(conn, tenant_id, stage_id)
        names.append(stage.name if stage else stage_id)
    return names
