"""Lists of items: filters on system and custom fields, one sort, keyset cursor, title search."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any, Literal

from conveyor_access import Action
from conveyor_kit.openapi import problem_responses
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from entities.adapters import entity_types, items
from entities.adapters.item_listing import list_items
from entities.domain.listing import MAX_LIMIT, OPS, Filter, ListQuery, Sort, parse_filter
from entities.entrypoints.deps import Ctx, CtxDep, EntityTypeIdOrCode
from entities.entrypoints.item_models import ItemPage
from entities.entrypoints.item_views import item_json
from entities.entrypoints.work import access, entity_type_id_of, unit_of_work

router = APIRouter(prefix="/v1/items", tags=["items"], responses=problem_responses(404))


class FilterBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    field: str = Field(max_length=100, description="a system field (title, assignee_id, stage_id...) or fields.<code>")
    op: Literal["eq", "ne", "in", "lt", "lte", "gt", "gte", "between", "contains", "empty"]
    value: Any = None


class ItemSearch(BaseModel):
    """The same list as GET /v1/items, for filters whose values are awkward in a query string."""

    model_config = ConfigDict(extra="forbid")

    entity_type_id: str = Field(min_length=1, max_length=64, description="the entity type's id or its code")
    filters: list[FilterBody] = Field(default_factory=list, max_length=30)
    sort: str = "-created_at"
    limit: int = Field(default=50, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(default=None, max_length=2000)
    q: str | None = Field(default=None, min_length=1, max_length=200)
    recycle_bin: bool = False


@router.get("", response_model=ItemPage, summary="List items of one entity type")
async def list_of_items(
    ctx: CtxDep,
    entity_type_id: EntityTypeIdOrCode,
    filter: Annotated[
        list[str],
        Query(description=f"<field>:<op>[:<value>], op one of {', '.join(sorted(OPS))}", max_length=30),
    ] = [],  # noqa: B006 (FastAPI copies query defaults)
    sort: Annotated[str, Query(description="a sortable field, `-` first for descending")] = "-created_at",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=2000)] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="text in the title")] = None,
    recycle_bin: Annotated[bool, Query(description="list the recycle bin instead")] = False,
) -> dict[str, Any]:
    query = ListQuery(
        entity_type_id=entity_type_id,
        filters=tuple(parse_filter(text) for text in filter),
        sort=Sort.parse(sort),
        limit=limit,
        cursor=cursor,
        text=q,
        in_recycle_bin=recycle_bin,
    )
    return await _page(ctx, query)


@router.post("/search", response_model=ItemPage, summary="List items of one entity type (filters in a JSON body)")
async def search(ctx: CtxDep, body: ItemSearch) -> dict[str, Any]:
    query = ListQuery(
        entity_type_id=body.entity_type_id,
        filters=tuple(Filter(f.field, f.op, f.value) for f in body.filters),
        sort=Sort.parse(body.sort),
        limit=body.limit,
        cursor=body.cursor,
        text=body.q,
        in_recycle_bin=body.recycle_bin,
    )
    return await _page(ctx, query)


async def _page(ctx: Ctx, query: ListQuery) -> dict[str, Any]:
    async with unit_of_work(ctx) as unit:
        type_id = await entity_type_id_of(unit.conn, unit.tenant_id, query.entity_type_id)
        query = replace(query, entity_type_id=type_id)
        schema = await entity_types.schema_of(unit.conn, unit.tenant_id, type_id)
        assert schema is not None
        rights = await access(unit, ctx.principal, query.entity_type_id, Action.READ)
        rows, next_cursor = await list_items(unit.conn, unit.tenant_id, query, schema, rights)
        return {
            "items": [item_json(items.to_item(row), schema, items.placement(row)) for row in rows],
            "next_cursor": next_cursor,
        }
