"""Commands other services send over Kafka: the same handlers as the HTTP API, once per idempotency key."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

import structlog
from conveyor_contracts.entities import CreateItem, ItemCommandRejected, UpdateItemFields
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import NO_STREAM, EventStore, NewEvent
from pydantic import ValidationError

from entities.adapters import receipts
from entities.domain.errors import DomainError, Invalid
from entities.handlers.create_item import create_item
from entities.handlers.unit import Unit
from entities.handlers.update_item import update_item

log = structlog.get_logger(__name__)

CommandHandler = Callable[[Connection, Envelope], Awaitable[None]]


def derived_item_id(tenant_id: str, idempotency_key: str) -> str:
    """The id a CreateItem without `item_id` gives its item: the sender can know it in advance."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"conveyor:{tenant_id}:{idempotency_key}"))


def when_create_item_is_asked_create_it(store: EventStore) -> CommandHandler:
    async def handle(conn: Connection, envelope: Envelope) -> None:
        command = CreateItem.model_validate(envelope.data)
        unit = Unit(conn, store, envelope.tenant_id, envelope.actor, envelope.time)
        item_id = command.item_id or derived_item_id(envelope.tenant_id, command.idempotency_key)
        if not await receipts.claim(conn, unit.tenant_id, command.idempotency_key, envelope.type, item_id, unit.now):
            log.info("item_command_repeated", idempotency_key=command.idempotency_key)
            return
        system = command.model_dump(
            include={"title", "assignee_id", "observer_ids", "amount", "currency", "begin_date", "close_date"}
            | {"source", "client_id"},
            exclude_none=True,
        )

        async def carry_out() -> None:
            await create_item(
                unit,
                entity_type_id=command.entity_type_id,
                values=system,
                fields=command.fields,
                requested_pipeline_id=command.requested_pipeline_id,
                requested_stage_id=command.requested_stage_id,
                item_id=item_id,
            )

        await _carry_out(unit, command.idempotency_key, envelope.type, item_id, carry_out)

    return handle


def when_update_fields_is_asked_update_them(store: EventStore) -> CommandHandler:
    async def handle(conn: Connection, envelope: Envelope) -> None:
        command = UpdateItemFields.model_validate(envelope.data)
        unit = Unit(conn, store, envelope.tenant_id, envelope.actor, envelope.time)
        key = command.idempotency_key
        if not await receipts.claim(conn, unit.tenant_id, key, envelope.type, command.item_id, unit.now):
            log.info("item_command_repeated", idempotency_key=key)
            return
        changes = dict(command.changes)
        fields = changes.pop("fields", None) or {}

        async def carry_out() -> None:
            if not isinstance(fields, dict):
                raise Invalid.one("/fields", "expected an object of field values by code")
            await update_item(
                unit, command.item_id, values=changes, fields=fields, expected_version=command.expected_version
            )

        await _carry_out(unit, key, envelope.type, command.item_id, carry_out)

    return handle


async def _carry_out(
    unit: Unit, key: str, command_type: str, item_id: str, action: Callable[[], Awaitable[None]]
) -> None:
    """Run the command; a refusal is recorded (receipt and ItemCommandRejected), not retried."""
    try:
        async with unit.conn.transaction():  # a savepoint: a refusal leaves nothing half-done
            await action()
    except (DomainError, ValidationError) as exc:
        errors = exc.errors if isinstance(exc, Invalid) else []
        log.info("item_command_rejected", idempotency_key=key, reason=str(exc))
        await receipts.settle(unit.conn, unit.tenant_id, key, "rejected", None)
        rejected = ItemCommandRejected(
            idempotency_key=key, command_type=command_type, item_id=item_id, reason=str(exc), errors=errors
        )
        await unit.store.append(
            unit.conn,
            stream_id=f"command-{derived_item_id(unit.tenant_id, key)}",
            tenant_id=unit.tenant_id,
            aggregate_type="item_command",
            expected_version=NO_STREAM,
            events=[NewEvent.of(rejected)],
            actor=unit.actor,
            now=unit.now,
        )
        return
    await receipts.settle(unit.conn, unit.tenant_id, key, "done", item_id)
