"""Reactions to the entities' type events and the pipelines' definitions: keep the copies of the types'
codes (list filters), their fields' kinds and list options, and each pipeline's type (robots' checks)."""

from __future__ import annotations

from conveyor_contracts import entities
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore

from automation.adapters import entity_types, field_kinds, list_options


async def when_entity_type_created_keep_its_code(conn: Connection, store: EventStore, event: Envelope) -> None:
    created = entities.EntityTypeCreated.model_validate(event.data)
    await entity_types.remember(conn, event.tenant_id, created.entity_type_id, created.code)


async def when_field_defined_keep_it(conn: Connection, store: EventStore, event: Envelope) -> None:
    """A field added or changed: its kind (what a robot's address may read) and a list field's options."""
    defined = entities.FieldAdded.model_validate(event.data)
    field = defined.field
    await field_kinds.remember_field(conn, event.tenant_id, defined.entity_type_id, field.code, field.kind)
    if field.kind == "list":
        options = [o.model_dump() for o in field.options or []]
        await list_options.save_field(
            conn, event.tenant_id, defined.entity_type_id, field.code, field.dictionary_id, options
        )


async def when_pipeline_defined_keep_its_type(conn: Connection, store: EventStore, event: Envelope) -> None:
    # `pipeline.changed` carries only what changed, but always the pipeline and its type.
    await field_kinds.remember_pipeline(conn, event.tenant_id, event.data["pipeline_id"], event.data["entity_type_id"])
