"""HTTP API of relations: define them, link and unlink items, list an item's linked items."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import asyncpg
from conveyor_kit.api_models import Page
from conveyor_kit.auth import Principal
from conveyor_kit.openapi import problem_responses
from conveyor_kit.pagination import Cursor, Limit, cut, instant_key, page_of, text_key
from conveyor_messaging.db import Connection
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from entities.adapters import entity_types, relations_store
from entities.adapters import items as items_table
from entities.domain.schema import TypeSchema
from entities.entrypoints.deps import CtxDep
from entities.entrypoints.item_models import ItemPage
from entities.entrypoints.item_views import item_json
from entities.entrypoints.relation_models import EntityRelation, ItemLink
from entities.entrypoints.work import entity_type_id_of
from entities.handlers.relation_links import define_relation, link_items, list_linked, unlink_items
from entities.handlers.relation_reader import Reader

router = APIRouter(prefix="/v1", tags=["relations"], responses=problem_responses(403, 404, 409))
Code = Field(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_]*$")


class NewRelation(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Code
    name: str = Field(min_length=1, max_length=200)
    parent_entity_type_id: str = Field(min_length=1, max_length=200)
    child_entity_type_id: str = Field(min_length=1, max_length=200)
    cardinality: Literal["one_to_many", "many_to_many"]


class NewItemLink(BaseModel):
    model_config = ConfigDict(extra="forbid")

    parent_item_id: str = Field(min_length=1, max_length=200)
    child_item_id: str = Field(min_length=1, max_length=200)


def reader_of(principal: Principal) -> Reader:
    return Reader(tenant_id=principal.tenant_id, user_id=principal.user_id, roles=frozenset(principal.roles))


async def items_json(conn: Connection, tenant_id: str, rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    """Items as the items API shows them, each with its own type's visible fields."""
    schemas: dict[str, TypeSchema | None] = {}
    result = []
    for row in rows:
        type_id = row["entity_type_id"]
        if type_id not in schemas:
            schemas[type_id] = await entity_types.schema_of(conn, tenant_id, type_id)
        result.append(item_json(items_table.to_item(row), schemas[type_id], items_table.placement(row)))
    return result


def relation_view(row: Any) -> dict[str, Any]:
    keys = ("code", "name", "parent_entity_type_id", "child_entity_type_id", "cardinality")
    return {"id": row["relation_id"], **{key: row[key] for key in keys}}


@router.post("/relations", status_code=201, response_model=EntityRelation)
async def post_relation(ctx: CtxDep, body: NewRelation) -> dict[str, Any]:
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        row = await define_relation(
            conn,
            ctx.store,
            tenant_id=ctx.tenant_id,
            actor=ctx.actor,
            now=ctx.now(),
            body=body.model_dump(),
        )
    return relation_view(row)


@router.get("/relations", response_model=Page[EntityRelation])
async def get_relations(
    ctx: CtxDep,
    entity_type_id: Annotated[
        str | None,
        Query(min_length=1, max_length=64, description="Only the relations of this type (its id or its code)."),
    ] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The tenant's relations by name (with a type: those where it is the parent or the child)."""
    after = text_key(cursor)
    async with ctx.pool.acquire() as conn:
        type_id = await entity_type_id_of(conn, ctx.tenant_id, entity_type_id) if entity_type_id else None
        rows = await relations_store.list_relations(conn, ctx.tenant_id, type_id, after=after, limit=limit + 1)
    return page_of(rows, limit, relation_view, lambda row: (row["name"], row["relation_id"]))


@router.post(
    "/relations/{relation_id}/links",
    status_code=201,
    response_model=ItemLink,
    responses={200: {"model": ItemLink, "description": "The link existed already"}},
)
async def post_link(ctx: CtxDep, relation_id: str, body: NewItemLink, response: Response) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn, conn.transaction():
        created = await link_items(
            conn,
            ctx.store,
            reader_of(ctx.principal),
            relation_id=relation_id,
            parent_id=body.parent_item_id,
            child_id=body.child_item_id,
            now=ctx.now(),
        )
    if not created:
        response.status_code = 200
    return {"relation_id": relation_id, **body.model_dump()}


@router.delete("/relations/{relation_id}/links/{parent_item_id}/{child_item_id}", status_code=204)
async def delete_link(ctx: CtxDep, relation_id: str, parent_item_id: str, child_item_id: str) -> None:
    async with ctx.pool.acquire() as conn, conn.transaction():
        await unlink_items(
            conn,
            ctx.store,
            reader_of(ctx.principal),
            relation_id=relation_id,
            parent_id=parent_item_id,
            child_id=child_item_id,
            now=ctx.now(),
        )


@router.get("/items/{item_id}/links/{relation_id}", response_model=ItemPage)
async def get_linked(
    ctx: CtxDep, item_id: str, relation_id: str, limit: Limit = 100, cursor: Cursor = None
) -> dict[str, Any]:
    """The items linked to this one in the relation (its children, or a child's parents) that the caller
    may read, in the order they were linked."""
    after = instant_key(cursor)
    async with ctx.pool.acquire() as conn:
        rows = await list_linked(
            conn, reader_of(ctx.principal), relation_id=relation_id, item_id=item_id, after=after, limit=limit + 1
        )
        shown, next_cursor = cut(rows, limit, lambda row: (row["linked_at"], row["item_id"]))
        return {"items": await items_json(conn, ctx.tenant_id, list(shown)), "next_cursor": next_cursor}
