"""Commands other services send over Kafka: the same handlers as the HTTP API, once per idempotency key."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence

import structlog
from conveyor_contracts.entities import CreateItem, ItemCommandRejected, UpdateItemFields
from conveyor_messaging.batches import BatchReaction, caused_by
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


def derived_item_id(tenant_id: str, idempotency_key: str) -> str:
    """The id a CreateItem without `item_id` gives its item: the sender can know it in advance."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"conveyor:{tenant_id}:{idempotency_key}"))


def when_item_commands_arrive_carry_them_out(store: EventStore) -> BatchReaction:
    """A fetch of commands (a robot's field change follows most moves): one statement claims every
    command's idempotency key, one settles their receipts; each command is carried out in between
    by the same handlers as the HTTP API. A key used before, or twice in the fetch, does nothing."""

    async def handle(conn: Connection, envelopes: Sequence[Envelope]) -> None:
        commands = [(envelope, _command(envelope)) for envelope in envelopes]
        claimed = await receipts.claim_many(
            conn,
            [
                receipts.Claim(e.tenant_id, c.idempotency_key, e.type, _item_id_of(e.tenant_id, c), e.time)
                for e, c in commands
            ],
        )
        settled: list[receipts.Settled] = []
        for envelope, command in commands:
            key = (envelope.tenant_id, command.idempotency_key)
            if key not in claimed:
                log.info("item_command_repeated", idempotency_key=command.idempotency_key)
                continue
            claimed.discard(key)  # the same key again later in the fetch is a repeat
            unit = Unit(conn, store, envelope.tenant_id, envelope.actor, envelope.time)
            with caused_by(envelope):
                settled.append(await _carry_out(unit, envelope.type, command))
        await receipts.settle_many(conn, settled)

    return handle


def _command(envelope: Envelope) -> CreateItem | UpdateItemFields:
    if envelope.type == CreateItem.type_name:
        return CreateItem.model_validate(envelope.data)
    return UpdateItemFields.model_validate(envelope.data)


def _action(unit: Unit, command: CreateItem | UpdateItemFields, item_id: str) -> Callable[[], Awaitable[None]]:
    if isinstance(command, CreateItem):
        system = command.model_dump(
            include={"title", "assignee_id", "observer_ids", "amount", "currency", "begin_date", "close_date"}
            | {"source", "client_id"},
            exclude_none=True,
        )

        async def create() -> None:
            await create_item(
                unit,
                entity_type_id=command.entity_type_id,
                values=system,
                fields=command.fields,
                requested_pipeline_id=command.requested_pipeline_id,
                requested_stage_id=command.requested_stage_id,
                item_id=item_id,
            )

        return create
    changes = dict(command.changes)
    fields = changes.pop("fields", None) or {}

    async def update() -> None:
        if not isinstance(fields, dict):
            raise Invalid.one("/fields", "expected an object of field values by code")
        await update_item(unit, item_id, values=changes, fields=fields, expected_version=command.expected_version)

    return update


async def _carry_out(unit: Unit, command_type: str, command: CreateItem | UpdateItemFields) -> receipts.Settled:
    """Run the command; a refusal is recorded (ItemCommandRejected) and settled, not retried."""
    key = command.idempotency_key
    item_id = _item_id_of(unit.tenant_id, command)
    try:
        async with unit.conn.transaction():  # a savepoint: a refusal leaves nothing half-done
            await _action(unit, command, item_id)()
    except (DomainError, ValidationError) as exc:
        errors = exc.errors if isinstance(exc, Invalid) else []
        log.info("item_command_rejected", idempotency_key=key, reason=str(exc))
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
        return receipts.Settled(unit.tenant_id, key, "rejected", None)
    return receipts.Settled(unit.tenant_id, key, "done", item_id)


def _item_id_of(tenant_id: str, command: CreateItem | UpdateItemFields) -> str:
    if isinstance(command, UpdateItemFields):
        return command.item_id
    return command.item_id or derived_item_id(tenant_id, command.idempotency_key)
