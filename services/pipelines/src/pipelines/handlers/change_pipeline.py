"""Rename a pipeline, reorder it among its type's pipelines, make it the default, set its card
fields or its transition rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from conveyor_contracts.pipelines import PipelineChanged
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import EventStore, NewEvent

from pipelines.adapters import catalog
from pipelines.domain import errors


async def append_pipeline_event(
    conn: Connection, store: EventStore, tenant_id: str, pipeline_id: str, event: Any, actor: Actor, now: datetime
) -> None:
    """Record an event on the pipeline's stream after the version this transaction read."""
    version = await store.stream_version(conn, pipeline_id, tenant_id=tenant_id)
    await store.append(
        conn,
        stream_id=pipeline_id,
        tenant_id=tenant_id,
        aggregate_type="pipeline",
        expected_version=version,
        events=[NewEvent.of(event, occurred_at=now)],
        actor=actor,
        now=now,
    )


async def change_pipeline(
    conn: Connection,
    store: EventStore,
    *,
    tenant_id: str,
    pipeline_id: str,
    changes: dict[str, Any],
    actor: Actor,
    now: datetime,
) -> None:
    row = await catalog.pipeline_row(conn, tenant_id, pipeline_id)
    if row is None:
        raise errors.NotFound(f"pipeline {pipeline_id} not found")
    if changes.get("is_default") is False and row["is_default"]:
        raise errors.DefaultPipelineRequired("make another pipeline the default instead")
    changed = {k: v for k, v in changes.items() if row[k] != v}
    if not changed:
        return
    await catalog.update_pipeline(conn, tenant_id, pipeline_id, changed)
    event = PipelineChanged(pipeline_id=pipeline_id, entity_type_id=row["entity_type_id"], changes=changed)
    await append_pipeline_event(conn, store, tenant_id, pipeline_id, event, actor, now)
