"""Define relations between entity types; link and unlink items; list an item's linked items."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
from conveyor_access import Action
from conveyor_contracts.entities_links import ItemLinked, ItemUnlinked, RelationDefined
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import ANY_VERSION, NO_STREAM, EventStore, NewEvent

from entities.adapters import entity_types, relations_store
from entities.adapters.access import access_for
from entities.domain.errors import Conflict, Invalid, NotFound
from entities.domain.relations import check_link, side_of
from entities.handlers.relation_reader import Reader


async def define_relation(
    conn: Connection, store: EventStore, *, tenant_id: str, actor: Actor, now: datetime, body: dict[str, Any]
) -> dict[str, Any]:
    """Relate two entity types of the tenant; the code is unique in the tenant."""
    for side in ("parent_entity_type_id", "child_entity_type_id"):
        if await entity_types.get_type(conn, tenant_id, body[side]) is None:
            raise Invalid.one(f"/{side}", "no such entity type")
    if await relations_store.code_taken(conn, tenant_id, body["code"]):
        raise Conflict(f"a relation with the code {body['code']!r} exists")
    event = RelationDefined(relation_id=f"rel-{uuid.uuid4().hex[:16]}", **body)
    row = event.model_dump(exclude={"type_name"})
    await relations_store.insert_relation(conn, tenant_id, row, now)
    await store.append(
        conn,
        stream_id=f"relation-{event.relation_id}",
        tenant_id=tenant_id,
        aggregate_type="relation",
        expected_version=NO_STREAM,
        events=[NewEvent.of(event, occurred_at=now)],
        actor=actor,
    )
    return row


async def link_items(
    conn: Connection,
    store: EventStore,
    reader: Reader,
    *,
    relation_id: str,
    parent_id: str,
    child_id: str,
    now: datetime,
) -> bool:
    """Link a parent and a child (the caller may update the parent and read the child); False if linked."""
    relation, parent, child = await _link_ends(conn, reader, relation_id, parent_id, child_id)
    if relation["cardinality"] == "one_to_many":
        current = await relations_store.parent_of(conn, reader.tenant_id, relation_id, child_id)
        if current not in (None, parent_id):
            raise Conflict("the child is linked to another parent in this one-to-many relation; unlink it first")
    if not await relations_store.insert_link(
        conn, reader.tenant_id, relation, parent_id, child_id, reader.user_id, now
    ):
        return False
    await _record(conn, store, reader, ItemLinked, relation, parent, child, now)
    return True


async def unlink_items(
    conn: Connection,
    store: EventStore,
    reader: Reader,
    *,
    relation_id: str,
    parent_id: str,
    child_id: str,
    now: datetime,
) -> None:
    relation, parent, child = await _link_ends(conn, reader, relation_id, parent_id, child_id)
    if not await relations_store.delete_link(conn, reader.tenant_id, relation_id, parent_id, child_id):
        raise NotFound("the items are not linked")
    await _record(conn, store, reader, ItemUnlinked, relation, parent, child, now)


async def list_linked(
    conn: Connection,
    reader: Reader,
    *,
    relation_id: str,
    item_id: str,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[asyncpg.Record]:
    """The items on the other side of the relation that the reader may read, by when they were linked
    (after the key ``after``); others are absent."""
    relation = await _relation(conn, reader.tenant_id, relation_id)
    item = await reader.visible_item(conn, item_id, Action.READ)
    side = side_of(relation, item["entity_type_id"])
    other_type = relation["child_entity_type_id" if side == "parent" else "parent_entity_type_id"]
    access = await access_for(
        conn,
        tenant_id=reader.tenant_id,
        user_id=reader.user_id,
        roles=reader.roles,
        entity_type_id=other_type,
        action=Action.READ,
    )
    return await relations_store.linked_items(
        conn, reader.tenant_id, relation_id, item_id, side=side, visible=access.where(6), after=after, limit=limit
    )


async def _relation(conn: Connection, tenant_id: str, relation_id: str) -> asyncpg.Record:
    relation = await relations_store.get_relation(conn, tenant_id, relation_id)
    if relation is None:
        raise NotFound("no such relation")
    return relation


async def _link_ends(
    conn: Connection, reader: Reader, relation_id: str, parent_id: str, child_id: str
) -> tuple[asyncpg.Record, asyncpg.Record, asyncpg.Record]:
    relation = await _relation(conn, reader.tenant_id, relation_id)
    parent = await reader.visible_item(conn, parent_id, Action.UPDATE)
    child = await reader.visible_item(conn, child_id, Action.READ)
    check_link(relation, parent["entity_type_id"], child["entity_type_id"])
    return relation, parent, child


async def _record(
    conn: Connection,
    store: EventStore,
    reader: Reader,
    contract: type[ItemLinked] | type[ItemUnlinked],
    relation: asyncpg.Record,
    parent: asyncpg.Record,
    child: asyncpg.Record,
    now: datetime,
) -> None:
    event = contract(
        relation_id=relation["relation_id"],
        parent_item_id=parent["item_id"],
        child_item_id=child["item_id"],
        parent_entity_type_id=parent["entity_type_id"],
        child_entity_type_id=child["entity_type_id"],
    )
    await store.append(
        conn,
        stream_id=f"link-{relation['relation_id']}-{parent['item_id']}-{child['item_id']}",
        tenant_id=reader.tenant_id,
        aggregate_type="item_link",
        expected_version=ANY_VERSION,
        events=[NewEvent.of(event, occurred_at=now)],
        actor=Actor.user(reader.user_id),
    )
