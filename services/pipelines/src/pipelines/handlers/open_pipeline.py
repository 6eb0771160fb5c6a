"""Open a pipeline for an entity type, with the default stages unless others are named."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from conveyor_contracts.pipelines import PipelineCreated, StageInfo
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import NO_STREAM, EventStore, NewEvent

from pipelines import follow_ups
from pipelines.adapters import catalog
from pipelines.domain import errors
from pipelines.domain.model import DEFAULT_STAGES, Pipeline, Stage, StageTemplate


def stage_info(stage: Stage) -> StageInfo:
    return StageInfo(
        stage_id=stage.stage_id,
        name=stage.name,
        color=stage.color,
        sort=stage.sort,
        semantic=stage.semantic,
        hidden=stage.hidden,
    )


async def open_pipeline(
    conn: Connection,
    store: EventStore,
    *,
    tenant_id: str,
    entity_type_id: str,
    name: str,
    actor: Actor,
    now: datetime,
    stages: Sequence[StageTemplate] = DEFAULT_STAGES,
    is_default: bool = False,
    card_fields: Sequence[str] = (),
) -> Pipeline:
    """The type's first pipeline is its default whatever was asked; items waiting for it are placed."""
    enabled = await conn.fetchval(
        "SELECT pipelines_enabled FROM entity_types WHERE tenant_id = $1 AND entity_type_id = $2",
        tenant_id,
        entity_type_id,
    )
    if enabled is None:
        raise errors.UnknownEntityType(f"no entity type {entity_type_id}")
    if not enabled:
        raise errors.PipelinesDisabled(f"entity type {entity_type_id} has pipelines off")
    existing = await catalog.pipelines_of_type(conn, tenant_id, entity_type_id)
    pipeline_id = str(uuid.uuid4())
    pipeline = Pipeline(
        pipeline_id=pipeline_id,
        entity_type_id=entity_type_id,
        name=name,
        sort=max((p.sort for p in existing), default=0) + 10,
        is_default=is_default or not existing,
        stages=tuple(
            Stage(str(uuid.uuid4()), pipeline_id, t.name, t.color, (n + 1) * 10, t.semantic)
            for n, t in enumerate(stages)
        ),
    )
    await catalog.insert_pipeline(conn, tenant_id, pipeline, card_fields=card_fields)
    created = PipelineCreated(
        pipeline_id=pipeline_id,
        entity_type_id=entity_type_id,
        name=name,
        sort=pipeline.sort,
        is_default=pipeline.is_default,
        stages=[stage_info(s) for s in pipeline.stages],
    )
    await store.append(
        conn,
        stream_id=pipeline_id,
        tenant_id=tenant_id,
        aggregate_type="pipeline",
        expected_version=NO_STREAM,
        events=[NewEvent.of(created, occurred_at=now)],
        actor=actor,
        now=now,
    )
    if not existing:
        opened = follow_ups.PlaceWaitingItems(tenant_id=tenant_id, entity_type_id=entity_type_id, actor=actor, now=now)
        await follow_ups.dispatch(conn, store, opened)
    return pipeline
