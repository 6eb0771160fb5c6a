"""Reactions to the entities service's events and to commands sent to this service."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import structlog
from conveyor_contracts import entities
from conveyor_contracts.pipelines import MoveItem
from conveyor_kit.domain_errors import DomainError
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import ConcurrencyConflict, EventStore

from pipelines.adapters import catalog, items
from pipelines.domain.model import DEFAULT_PIPELINE_NAME
from pipelines.domain.values import amount_or_none
from pipelines.handlers.move_item import Mover, move_item
from pipelines.handlers.open_pipeline import open_pipeline

log = structlog.get_logger(__name__)

CARD_COLUMNS = {"title": "title", "assignee_id": "assignee_id", "amount": "amount", "currency": "currency"}


async def when_entity_type_created_open_default_pipeline(conn: Connection, store: EventStore, event: Envelope) -> None:
    created = entities.EntityTypeCreated.model_validate(event.data)
    enabled = bool(created.settings.get("pipelines_enabled", True))
    remembered = await catalog.remember_entity_type(
        conn, event.tenant_id, created.entity_type_id, created.name, enabled, code=created.code
    )
    if not remembered:
        return
    if enabled:
        await open_pipeline(
            conn,
            store,
            tenant_id=event.tenant_id,
            entity_type_id=created.entity_type_id,
            name=DEFAULT_PIPELINE_NAME,
            actor=event.actor,
            now=event.time,
        )


async def when_entity_type_changed_follow_its_pipelines_setting(
    conn: Connection, store: EventStore, event: Envelope
) -> None:
    """Pipelines switched on for a type that had none: it gets its default pipeline then."""
    changed = entities.EntityTypeChanged.model_validate(event.data)
    settings = changed.changes.get("settings")
    value = settings.get("pipelines_enabled") if isinstance(settings, dict) else None
    if isinstance(value, dict):  # {"old": ..., "new": ...}
        value = value.get("new")
    if value is None or not await catalog.entity_type_known(conn, event.tenant_id, changed.entity_type_id):
        return
    await catalog.set_pipelines_enabled(conn, event.tenant_id, changed.entity_type_id, bool(value))
    if value and not await catalog.pipelines_of_type(conn, event.tenant_id, changed.entity_type_id):
        await open_pipeline(
            conn,
            store,
            tenant_id=event.tenant_id,
            entity_type_id=changed.entity_type_id,
            name=DEFAULT_PIPELINE_NAME,
            actor=event.actor,
            now=event.time,
        )


async def when_items_updated_refresh_their_cards(
    conn: Connection, store: EventStore, events: Sequence[Envelope]
) -> None:
    """A fetch of updates in one statement (a busy board changes hundreds of cards a second)."""
    changes = []
    for event in events:
        updated = entities.ItemUpdated.model_validate(event.data)
        columns: dict[str, Any] = {}
        fields: dict[str, Any] = {}
        for key, change in updated.changes.items():
            new = change.get("new")
            if key.startswith("fields."):
                fields[key.removeprefix("fields.")] = new
            elif key in CARD_COLUMNS:
                columns[CARD_COLUMNS[key]] = amount_or_none(new) if key == "amount" else new
        changes.append(items.CardChange(event.tenant_id, updated.item_id, columns, fields, event.time))
    await items.apply_card_changes(conn, changes)


async def when_item_deleted_hide_its_card(conn: Connection, store: EventStore, event: Envelope) -> None:
    deleted = entities.ItemDeleted.model_validate(event.data)
    await items.set_deleted(conn, event.tenant_id, deleted.item_id, True, event.time)


async def when_item_restored_show_its_card(conn: Connection, store: EventStore, event: Envelope) -> None:
    restored = entities.ItemRestored.model_validate(event.data)
    await items.set_deleted(conn, event.tenant_id, restored.item_id, False, event.time)


async def when_item_purged_forget_it(conn: Connection, store: EventStore, event: Envelope) -> None:
    purged = entities.ItemPurged.model_validate(event.data)
    await items.purge(conn, event.tenant_id, purged.item_id)


async def when_move_commanded_move_item(conn: Connection, store: EventStore, event: Envelope) -> None:
    """The same handler as the HTTP API; a refused command is logged, not retried (it would fail again)."""
    command = MoveItem.model_validate(event.data)
    first = await conn.execute(
        "INSERT INTO handled_commands (tenant_id, idempotency_key) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        event.tenant_id,
        command.idempotency_key,
    )
    if not first.endswith(" 1"):
        log.info("move_command_repeated", idempotency_key=command.idempotency_key)
        return
    try:
        async with conn.transaction():  # a savepoint: a refused move leaves the key recorded
            await move_item(
                conn,
                store,
                tenant_id=event.tenant_id,
                item_id=command.item_id,
                to_stage_id=command.to_stage_id,
                expected_version=command.expected_version,
                mover=Mover(actor=event.actor),
                now=event.time,
            )
    except (DomainError, ConcurrencyConflict) as refused:
        log.warning("move_command_refused", idempotency_key=command.idempotency_key, reason=str(refused))
