"""Reactions to the entities' type events: keep the copy that list filters resolve a type's code with."""

from __future__ import annotations

from conveyor_contracts import entities
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore

from automation.adapters import entity_types


async def when_entity_type_created_keep_its_code(conn: Connection, store: EventStore, event: Envelope) -> None:
    created = entities.EntityTypeCreated.model_validate(event.data)
    await entity_types.remember(conn, event.tenant_id, created.entity_type_id, created.code)
