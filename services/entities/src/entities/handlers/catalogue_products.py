"""Create and change catalogue products; bind an item of a catalogue-bound type to a product."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import asyncpg
from conveyor_access import Action
from conveyor_contracts.entities_links import ItemBoundToProduct, ProductChanged, ProductCreated
from conveyor_kit.domain_errors import StaleVersion
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import ANY_VERSION, NO_STREAM, EventStore, NewEvent

from entities.adapters import catalogue_store, entity_types
from entities.adapters.access import access_for
from entities.domain.catalogue import check_product
from entities.domain.errors import Conflict, Invalid, NotFound
from entities.handlers.relation_reader import Reader


async def create_product(
    conn: Connection, store: EventStore, *, tenant_id: str, actor: Actor, now: datetime, body: dict[str, Any]
) -> dict[str, Any]:
    values = check_product(body, creating=True)
    event = ProductCreated(product_id=f"prod-{uuid.uuid4().hex[:16]}", **values)
    product = event.model_dump(exclude={"type_name"})
    if not await catalogue_store.insert_product(conn, tenant_id, product, now):
        raise Conflict(f"the SKU {values['sku']!r} belongs to another product")
    await _append(conn, store, tenant_id, event.product_id, NO_STREAM, event, actor, now)
    return {**product, "version": 1}


async def change_product(
    conn: Connection,
    store: EventStore,
    *,
    tenant_id: str,
    actor: Actor,
    now: datetime,
    product_id: str,
    body: dict[str, Any],
    expected_version: int | None,
) -> asyncpg.Record:
    """Change the values sent, if the product is still at ``expected_version`` (None: whatever its
    version); no event when nothing differs."""
    row = await catalogue_store.get_product(conn, tenant_id, product_id, lock=True)
    if row is None:
        raise NotFound("no such product")
    if expected_version is not None and row["version"] != expected_version:
        detail = "the product changed since you read it; reload it and try again"
        raise StaleVersion(detail, expected=expected_version, current=row["version"])
    values = check_product(body, creating=False)
    current = {k: (format(row[k], "f") if k == "base_price" else row[k]) for k in values}
    changes = {k: {"old": current[k], "new": v} for k, v in values.items() if current[k] != v}
    if not changes:
        return row
    owner = await catalogue_store.sku_owner(conn, tenant_id, values["sku"]) if "sku" in changes else None
    if owner not in (None, product_id):
        raise Conflict(f"the SKU {values['sku']!r} belongs to another product")
    await catalogue_store.update_product(conn, tenant_id, product_id, {k: c["new"] for k, c in changes.items()}, now)
    event = ProductChanged(product_id=product_id, changes=changes)
    await _append(conn, store, tenant_id, product_id, row["version"], event, actor, now)
    updated = await catalogue_store.get_product(conn, tenant_id, product_id)
    assert updated is not None
    return updated


async def bind_item_to_product(
    conn: Connection, store: EventStore, reader: Reader, *, item_id: str, product_id: str | None, now: datetime
) -> None:
    """The item (of a catalogue-bound type, which the reader may update) refers to the product."""
    item = await reader.visible_item(conn, item_id, Action.UPDATE)
    entity_type = await entity_types.get_type(conn, reader.tenant_id, item["entity_type_id"])
    if entity_type is None or not entity_type["settings"].get("catalogue_binding"):
        raise Conflict("the item's entity type is not bound to the catalogue")
    if product_id is not None and await catalogue_store.get_product(conn, reader.tenant_id, product_id) is None:
        raise Invalid.one("/product_id", "no such product")
    previous = await catalogue_store.product_of(conn, reader.tenant_id, item_id)
    if previous == product_id:
        return
    await catalogue_store.bind(conn, reader.tenant_id, item_id, product_id)
    event = ItemBoundToProduct(
        item_id=item_id, entity_type_id=item["entity_type_id"], product_id=product_id, previous_product_id=previous
    )
    await store.append(
        conn,
        stream_id=f"item-product-{item_id}",
        tenant_id=reader.tenant_id,
        aggregate_type="item_link",
        expected_version=ANY_VERSION,
        events=[NewEvent.of(event, occurred_at=now)],
        actor=Actor.user(reader.user_id),
    )


async def items_of_product(
    conn: Connection, reader: Reader, *, product_id: str, after: tuple[datetime, str] | None, limit: int
) -> list[asyncpg.Record]:
    """The live items bound to the product that the reader may read, oldest first, from the one after
    ``after`` (a creation time and an id)."""
    if await catalogue_store.get_product(conn, reader.tenant_id, product_id) is None:
        raise NotFound("no such product")
    rows: list[asyncpg.Record] = []
    for entity_type_id in await catalogue_store.bound_types(conn, reader.tenant_id, product_id):
        access = await access_for(
            conn,
            tenant_id=reader.tenant_id,
            user_id=reader.user_id,
            roles=reader.roles,
            entity_type_id=entity_type_id,
            action=Action.READ,
        )
        condition, params = access.where(3)
        rows += await catalogue_store.bound_items(
            conn,
            reader.tenant_id,
            product_id,
            (f"i.entity_type_id = ${3 + len(params)} AND {condition}", [*params, entity_type_id]),
            after=after,
            limit=limit,
        )
    return sorted(rows, key=lambda r: (r["created_at"], r["item_id"]))[:limit]


async def _append(
    conn: Connection,
    store: EventStore,
    tenant_id: str,
    product_id: str,
    expected: int,
    event: ProductCreated | ProductChanged,
    actor: Actor,
    now: datetime,
) -> None:
    await store.append(
        conn,
        stream_id=f"product-{product_id}",
        tenant_id=tenant_id,
        aggregate_type="product",
        expected_version=expected,
        events=[NewEvent.of(event, occurred_at=now)],
        actor=actor,
    )
