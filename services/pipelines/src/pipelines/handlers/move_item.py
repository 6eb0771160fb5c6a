"""Move an item to a stage of its pipeline or another one; tunnels on the new stage follow."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from conveyor_access import Action
from conveyor_contracts.pipelines import ItemMovedToStage
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import ConcurrencyConflict, EventStore, NewEvent

from pipelines import follow_ups
from pipelines.adapters import catalog, items
from pipelines.adapters.access import Access
from pipelines.domain import errors
from pipelines.domain.model import Stage
from pipelines.domain.transitions import TransitionRule, refusing_rule
from pipelines.domain.tunnels import TUNNEL_ACTOR


@dataclass(frozen=True, slots=True)
class Mover:
    """Who moves: a user with their rights, or a robot, process or tunnel acting for the tenant."""

    actor: Actor
    access: Access | None = None  # None: rights and transition rules are the sender's business


async def move_item(
    conn: Connection,
    store: EventStore,
    *,
    tenant_id: str,
    item_id: str,
    to_stage_id: str,
    expected_version: int | None,
    mover: Mover,
    now: datetime,
    tunnel_id: str | None = None,
) -> items.ItemCopy:
    """Move the item and record the visit and the event, in the caller's transaction."""
    item = await items.load_item(conn, tenant_id, item_id)
    if item is None or item.deleted:
        raise errors.NotFound(f"item {item_id} not found")
    access = mover.access
    if access is not None and item.pipeline_id and not access.may(Action.READ, item.pipeline_id, item.assignee_id):
        raise errors.NotFound(f"item {item_id} not found")
    if item.pipeline_id is None or item.stage_id is None:
        raise errors.NotPlaced(f"item {item_id} waits for a pipeline of its type")
    if expected_version is not None and expected_version != item.version:
        raise ConcurrencyConflict(item_id, expected_version, item.version)
    source = await catalog.load_stage(conn, tenant_id, item.stage_id)
    target = await catalog.load_stage(conn, tenant_id, to_stage_id)
    target_pipeline = await catalog.pipeline_row(conn, tenant_id, target.pipeline_id) if target else None
    if target is None or target_pipeline is None or target_pipeline["entity_type_id"] != item.entity_type_id:
        raise errors.UnknownStage(f"no stage {to_stage_id} for this item's type")
    assert source is not None
    if access is not None:
        await _check_rights(conn, tenant_id, access, item, source, target)
    if not await items.put_on_stage(
        conn,
        tenant_id,
        item_id,
        pipeline_id=target.pipeline_id,
        stage_id=target.stage_id,
        expected_version=item.version,
        at=now,
    ):
        raise ConcurrencyConflict(item_id, item.version, None)
    await items.record_visit(
        conn,
        tenant_id,
        item_id,
        pipeline_id=target.pipeline_id,
        stage_id=target.stage_id,
        at=now,
        by=str(mover.actor),
        tunnel_id=tunnel_id,
    )
    moved = ItemMovedToStage(
        item_id=item_id,
        entity_type_id=item.entity_type_id,
        from_pipeline_id=source.pipeline_id,
        from_stage_id=source.stage_id,
        from_semantic=source.semantic,
        to_pipeline_id=target.pipeline_id,
        to_stage_id=target.stage_id,
        to_semantic=target.semantic,
        moved_by=str(mover.actor),
        moved_at=now,
        tunnel_id=tunnel_id,
    )
    await store.append(
        conn,
        stream_id=item_id,
        tenant_id=tenant_id,
        aggregate_type="item",
        expected_version=item.version,
        events=[NewEvent.of(moved, occurred_at=now)],
        actor=mover.actor,
        now=now,
    )
    entered = follow_ups.FollowTunnels(tenant_id=tenant_id, item_id=item_id, stage_id=target.stage_id, now=now)
    await follow_ups.dispatch(conn, store, entered)
    moved_item = await items.load_item(conn, tenant_id, item_id)
    assert moved_item is not None
    return moved_item


async def move_through_tunnel(conn: Connection, store: EventStore, onward: follow_ups.MoveThroughTunnel) -> None:
    """A ``move`` tunnel's work (`follow_ups.MoveThroughTunnel`): the tenant's tunnel moves, not a user."""
    await move_item(
        conn, store, tenant_id=onward.tenant_id, item_id=onward.item_id, to_stage_id=onward.to_stage_id,
        expected_version=None, mover=Mover(actor=TUNNEL_ACTOR), now=onward.now, tunnel_id=onward.tunnel_id,
    )  # fmt: skip


async def _check_rights(
    conn: Connection, tenant_id: str, access: Access, item: items.ItemCopy, source: Stage, target: Stage
) -> None:
    for pipeline_id in {source.pipeline_id, target.pipeline_id}:
        if not access.may(Action.UPDATE, pipeline_id, item.assignee_id):
            raise errors.Forbidden("you may not move this item in this pipeline", pipeline_id=pipeline_id)
    for pipeline_id in {source.pipeline_id, target.pipeline_id}:
        row = await catalog.pipeline_row(conn, tenant_id, pipeline_id)
        rules = [TransitionRule.model_validate(r) for r in (row["transition_rules"] if row else [])]
        refused = refusing_rule(rules, source, target, access.viewer.roles)
        if refused is not None:
            raise errors.Forbidden(
                f"moves from {source.name} to {target.name} are reserved to {', '.join(refused.roles)}",
                rule=refused.model_dump(mode="json"),
            )
