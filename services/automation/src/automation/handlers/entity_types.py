"""Reactions to the entities' type events and the pipelines' definitions: keep the copies that list filters
resolve a type's code with and that robots' field recipients are checked against."""

from __future__ import annotations

from conveyor_contracts import entities
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore

from automation.adapters import entity_types, field_kinds


async def when_entity_type_created_keep_its_code(conn: Connection, store: EventStore, event: Envelope) -> None:
    created = entities.EntityTypeCreated.model_validate(event.data)
    await entity_types.remember(conn, event.tenant_id, created.entity_type_id, created.code)


async def when_pipeline_defined_keep_its_type(conn: Connection, store: EventStore, event: Envelope) -> None:
    await field_kinds.remember_pipeline(conn, event.tenant_id, event.data["pipeline_id"], event.data["entity_type_id"])
