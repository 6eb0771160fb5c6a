"""Add, change, reorder and delete the stages of a pipeline."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime
from typing import Any

from conveyor_contracts.pipelines import StageAdded, StageChanged, StageDeleted, StagesReordered, TunnelRemoved
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import ANY_VERSION, EventStore, NewEvent

from pipelines.adapters import catalog, items
from pipelines.adapters import tunnels as tunnel_rows
from pipelines.domain import errors
from pipelines.domain.model import Pipeline, Semantic, Stage
from pipelines.handlers.change_pipeline import append_pipeline_event
from pipelines.handlers.move_item import Mover, move_item
from pipelines.handlers.open_pipeline import stage_info


async def _pipeline(conn: Connection, tenant_id: str, pipeline_id: str) -> Pipeline:
    pipeline = await catalog.load_pipeline(conn, tenant_id, pipeline_id)
    if pipeline is None:
        raise errors.NotFound(f"pipeline {pipeline_id} not found")
    return pipeline


def _stage_of(pipeline: Pipeline, stage_id: str) -> Stage:
    for stage in pipeline.stages:
        if stage.stage_id == stage_id:
            return stage
    raise errors.NotFound(f"stage {stage_id} not found in pipeline {pipeline.pipeline_id}")


async def add_stage(
    conn: Connection,
    store: EventStore,
    *,
    tenant_id: str,
    pipeline_id: str,
    name: str,
    color: str,
    semantic: Semantic,
    hidden: bool,
    actor: Actor,
    now: datetime,
) -> Stage:
    """The new stage goes last; reorder to put it elsewhere."""
    pipeline = await _pipeline(conn, tenant_id, pipeline_id)
    sort = max((s.sort for s in pipeline.stages), default=0) + 10
    stage = Stage(str(uuid.uuid4()), pipeline_id, name, color, sort, semantic, hidden)
    await catalog.insert_stage(conn, tenant_id, stage)
    event = StageAdded(pipeline_id=pipeline_id, entity_type_id=pipeline.entity_type_id, stage=stage_info(stage))
    await append_pipeline_event(conn, store, tenant_id, pipeline_id, event, actor, now)
    return stage


async def change_stage(
    conn: Connection,
    store: EventStore,
    *,
    tenant_id: str,
    pipeline_id: str,
    stage_id: str,
    changes: dict[str, Any],
    actor: Actor,
    now: datetime,
) -> Stage:
    pipeline = await _pipeline(conn, tenant_id, pipeline_id)
    stage = dataclasses.replace(_stage_of(pipeline, stage_id), **changes)
    await catalog.update_stage(conn, tenant_id, stage)
    event = StageChanged(pipeline_id=pipeline_id, entity_type_id=pipeline.entity_type_id, stage=stage_info(stage))
    await append_pipeline_event(conn, store, tenant_id, pipeline_id, event, actor, now)
    return stage


async def reorder_stages(
    conn: Connection,
    store: EventStore,
    *,
    tenant_id: str,
    pipeline_id: str,
    stage_ids: list[str],
    actor: Actor,
    now: datetime,
) -> None:
    """`stage_ids` must list every stage of the pipeline exactly once."""
    pipeline = await _pipeline(conn, tenant_id, pipeline_id)
    current = {s.stage_id: s for s in pipeline.stages}
    if sorted(stage_ids) != sorted(current):
        raise errors.IncompleteStageOrder("name every stage of the pipeline exactly once", stage_ids=sorted(current))
    for n, stage_id in enumerate(stage_ids, start=1):
        await catalog.update_stage(conn, tenant_id, dataclasses.replace(current[stage_id], sort=n * 10))
    event = StagesReordered(pipeline_id=pipeline_id, entity_type_id=pipeline.entity_type_id, stage_ids=stage_ids)
    await append_pipeline_event(conn, store, tenant_id, pipeline_id, event, actor, now)


async def delete_stage(
    conn: Connection,
    store: EventStore,
    *,
    tenant_id: str,
    pipeline_id: str,
    stage_id: str,
    move_items_to: str | None,
    actor: Actor,
    now: datetime,
) -> int:
    """Delete a stage; the items on it move (with events) to `move_items_to`. Returns how many moved."""
    pipeline = await _pipeline(conn, tenant_id, pipeline_id)
    _stage_of(pipeline, stage_id)
    if len(pipeline.stages) == 1:
        raise errors.LastStage("a pipeline keeps at least one stage")
    held = await items.items_on_stage(conn, tenant_id, stage_id)
    if held and (move_items_to is None or move_items_to == stage_id):
        raise errors.StageNotEmpty(
            f"{len(held)} item(s) are on this stage; name the stage that receives them (move_items_to)",
            items=len(held),
        )
    if move_items_to is not None and await catalog.load_stage(conn, tenant_id, move_items_to) is None:
        raise errors.UnknownStage(f"no stage {move_items_to}")
    for item in held:
        await move_item(
            conn,
            store,
            tenant_id=tenant_id,
            item_id=item.item_id,
            to_stage_id=str(move_items_to),
            expected_version=item.version,
            mover=Mover(actor=actor),
            now=now,
        )
    for tunnel_id in await tunnel_rows.delete_tunnels_touching(conn, tenant_id, stage_id):
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
    await conn.execute("DELETE FROM stages WHERE tenant_id = $1 AND stage_id = $2", tenant_id, stage_id)
    event = StageDeleted(
        pipeline_id=pipeline_id,
        entity_type_id=pipeline.entity_type_id,
        stage_id=stage_id,
        items_moved_to=move_items_to if held else None,
    )
    await append_pipeline_event(conn, store, tenant_id, pipeline_id, event, actor, now)
    return len(held)
