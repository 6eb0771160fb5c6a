"""What the routes share: a unit of work per request, the caller's access, ETag and If-Match."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from conveyor_access import Action
from conveyor_kit.auth import Principal
from conveyor_messaging.db import Connection

from entities.adapters import entity_types
from entities.adapters.access import Access, access_for
from entities.domain.errors import Forbidden, NotFound, UnknownEntityType
from entities.domain.item import Item
from entities.entrypoints.deps import Ctx
from entities.handlers.load_item import Guard
from entities.handlers.unit import Unit


@asynccontextmanager
async def unit_of_work(ctx: Ctx) -> AsyncIterator[Unit]:
    """One transaction for the request; the caller is the actor, the app's clock gives the time."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        yield Unit(conn=conn, store=ctx.store, tenant_id=ctx.tenant_id, actor=ctx.actor, now=ctx.now())


async def access(unit: Unit, principal: Principal, entity_type_id: str, action: Action) -> Access:
    return await access_for(
        unit.conn,
        tenant_id=principal.tenant_id,
        user_id=principal.user_id,
        roles=principal.roles,
        entity_type_id=entity_type_id,
        action=action,
        known=unit.known_rights,
    )


def guard(unit: Unit, principal: Principal, action: Action) -> Guard:
    """An item the caller may not read is not found (existence is not revealed); one they may read
    but not change this way is forbidden."""

    async def check(item: Item, pipeline_id: str | None) -> None:
        if not (await access(unit, principal, item.entity_type_id, Action.READ)).allows(item.assignee_id, pipeline_id):
            raise NotFound(f"item {item.item_id} not found")
        if action is not Action.READ:
            rights = await access(unit, principal, item.entity_type_id, action)
            if not rights.allows(item.assignee_id, pipeline_id):
                raise Forbidden(f"you may not {action.value} this item")

    return check


async def entity_type_id_of(conn: Connection, tenant_id: str, id_or_code: str) -> str:
    """The id of the type a filter names by its id or its code; a type the tenant lacks is a 404
    `unknown-entity-type`, never an empty list."""
    found = await entity_types.entity_type_id_of(conn, tenant_id, id_or_code)
    if found is None:
        raise UnknownEntityType(f"no entity type {id_or_code!r} (by id or code)")
    return found


def etag(version: int) -> str:
    return f'"{version}"'
