"""Define a roll-up rule: which parent field an aggregate of the children's fields keeps up to date."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from conveyor_contracts.entities_links import RollupRuleDefined
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import NO_STREAM, EventStore, NewEvent

from entities.adapters import entity_types, relations_store, rollup_store
from entities.domain.errors import Conflict, Invalid, NotFound
from entities.domain.rollup import PARENT_KINDS
from entities.domain.schema import TypeSchema


async def define_rollup_rule(
    conn: Connection, store: EventStore, *, tenant_id: str, actor: Actor, now: datetime, body: dict[str, Any]
) -> dict[str, Any]:
    """Check the fields against the relation's two types and record the rule; one rule per parent field."""
    relation = await relations_store.get_relation(conn, tenant_id, body["relation_id"])
    if relation is None:
        raise NotFound("no such relation")
    parent = await entity_types.schema_of(conn, tenant_id, relation["parent_entity_type_id"])
    child = await entity_types.schema_of(conn, tenant_id, relation["child_entity_type_id"])
    if parent is None or child is None:
        raise NotFound("the relation's entity types are gone")
    errors = _field_errors(parent, [body["parent_field"]], "/parent_field", PARENT_KINDS)
    for index, key in enumerate(body["child_fields"]):
        errors += _field_errors(child, [key], f"/child_fields/{index}", PARENT_KINDS)
    if body["aggregate"] != "count" and not body["child_fields"]:
        errors.append({"field": "/child_fields", "message": f"{body['aggregate']} needs at least one child field"})
    if errors:
        raise Invalid(errors)
    if await rollup_store.rule_exists(conn, tenant_id, body["relation_id"], body["parent_field"]):
        raise Conflict("a roll-up rule already keeps this parent field")
    event = RollupRuleDefined(rule_id=f"rule-{uuid.uuid4().hex[:16]}", **body)
    rule = event.model_dump(exclude={"type_name"})
    await rollup_store.insert_rule(conn, tenant_id, rule, now)
    await store.append(
        conn,
        stream_id=f"rollup-{event.rule_id}",
        tenant_id=tenant_id,
        aggregate_type="rollup_rule",
        expected_version=NO_STREAM,
        events=[NewEvent.of(event, occurred_at=now)],
        actor=actor,
    )
    return rule


def field_kind(schema: TypeSchema, key: str) -> str | None:
    """The kind of a change key on a type: `amount` is money-like (decimal), `fields.<code>` its field's."""
    if key == "amount":
        return "decimal"
    spec = schema.fields.get(key.removeprefix("fields.")) if key.startswith("fields.") else None
    return spec.kind if spec is not None and not spec.hidden and not spec.multiple else None


def _field_errors(schema: TypeSchema, keys: list[str], pointer: str, kinds: tuple[str, ...]) -> list[dict[str, str]]:
    errors = []
    for key in keys:
        kind = field_kind(schema, key)
        if kind is None:
            errors.append({"field": pointer, "message": f"{key!r} is not a single-valued field of the type"})
        elif kind not in kinds:
            errors.append({"field": pointer, "message": f"{key!r} is a {kind} field; roll-ups need numbers"})
    return errors
