"""When a child item or a link changes, roll the children up into their parents' fields.

Each reaction recomputes the aggregate from the current state (links and items written with their
events), so a repeated or late event changes nothing, and the parent is updated only when the
value differs. The update is the item handler's, made by the actor `robot:rollup-<rule id>`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg
import structlog
from conveyor_contracts.entities import ItemUpdated
from conveyor_messaging.actor import Actor
from conveyor_messaging.batches import BatchReaction, Handler, caused_by
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore

from entities.adapters import entity_types, rollup_store
from entities.adapters import items as items_table
from entities.domain.rollup import aggregate, as_parent_value, same
from entities.handlers.rollup_rules import field_kind
from entities.handlers.unit import Unit
from entities.handlers.update_item import update_item

log = structlog.get_logger(__name__)


def when_child_item_changed_roll_up_its_parents(store: EventStore) -> Handler:
    """Item events of a rule's child type → each parent linked to the item, brought up to date."""

    async def handle(conn: Connection, event: Envelope) -> None:
        rules = await rollup_store.rules_for_child_type(conn, event.tenant_id, event.data["entity_type_id"])
        touched = set(event.data.get("changes", {})) if event.type == ItemUpdated.type_name else None
        for rule in rules:
            if touched is not None and not touched & set(rule["child_fields"]):
                continue
            for parent_id in await rollup_store.parents_of(
                conn, event.tenant_id, rule["relation_id"], event.data["item_id"]
            ):
                await roll_up(conn, store, rule, parent_id, event)

    return handle


def when_child_items_changed_roll_up_their_parents(store: EventStore) -> BatchReaction:
    """The batch form: the rules of each (tenant, type) in the run are read once, and an event of a type
    no rule rolls up (an import's items, mostly) costs nothing more."""
    each = when_child_item_changed_roll_up_its_parents(store)

    async def handle(conn: Connection, events: Sequence[Envelope]) -> None:
        kinds = {(e.tenant_id, e.data["entity_type_id"]) for e in events}
        rolled = {kind for kind in kinds if await rollup_store.rules_for_child_type(conn, *kind)}
        for event in events:
            if (event.tenant_id, event.data["entity_type_id"]) in rolled:
                with caused_by(event):
                    await each(conn, event)

    return handle


def when_items_were_linked_or_unlinked_roll_up_the_parent(store: EventStore) -> Handler:
    """A link or an unlink → the parent, brought up to date by every rule of the relation."""

    async def handle(conn: Connection, event: Envelope) -> None:
        for rule in await rollup_store.rules_for_relation(conn, event.tenant_id, event.data["relation_id"]):
            await roll_up(conn, store, rule, event.data["parent_item_id"], event)

    return handle


async def roll_up(conn: Connection, store: EventStore, rule: asyncpg.Record, parent_id: str, event: Envelope) -> None:
    """Write the rule's aggregate into the parent unless it already holds that value."""
    tenant_id = event.tenant_id
    row = await items_table.get_row(conn, tenant_id, parent_id)
    if row is None or row["deleted_at"] is not None:
        return  # a parent in the recycle bin is brought up to date when it is restored
    schema = await entity_types.schema_of(conn, tenant_id, row["entity_type_id"])
    if schema is None:
        return
    parent = items_table.to_item(row)
    key = rule["parent_field"]
    current = parent.value(key)
    kind = field_kind(schema, key) or "decimal"
    children = await rollup_store.children_values(conn, tenant_id, rule["relation_id"], parent_id)
    result = aggregate(rule["aggregate"], children, rule["child_fields"])
    new = as_parent_value(result, kind, current, schema.settings.get("default_currency"))
    if same(current, new):
        return
    values: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    if key.startswith("fields."):
        fields[key.removeprefix("fields.")] = new
    else:
        values[key] = new
        if key == "amount" and new is not None and parent.currency is None:
            values["currency"] = schema.settings.get("default_currency") or "USD"
    unit = Unit(
        conn=conn, store=store, tenant_id=tenant_id, actor=Actor("robot", f"rollup-{rule['rule_id']}"), now=event.time
    )
    await update_item(unit, parent_id, values=values, fields=fields, expected_version=None)
    log.info("rolled_up", rule_id=rule["rule_id"], parent_id=parent_id, old=current, new=new)
