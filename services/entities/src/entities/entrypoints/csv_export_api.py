"""CSV export of any filtered list of items: the same filters, sort, search and rights as the items list."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Annotated

from conveyor_access import Action
from conveyor_kit.openapi import problem_responses, text_body
from fastapi import APIRouter, Query, Response
from fastapi.responses import StreamingResponse

from entities.adapters import entity_types
from entities.adapters import items as items_table
from entities.adapters.access import access_for
from entities.adapters.item_listing import list_items
from entities.domain import csv_export
from entities.domain.listing import MAX_LIMIT, OPS, Filter, ListQuery, Sort, parse_filter
from entities.entrypoints.deps import Ctx, CtxDep, EntityTypeIdOrCode
from entities.entrypoints.items_list_api import ItemSearch
from entities.entrypoints.work import entity_type_id_of

router = APIRouter(prefix="/v1/exports", tags=["items"], responses=problem_responses(404))


@router.get(
    "/items.csv",
    response_class=Response,
    responses=text_body("text/csv"),
    summary="Export a filtered list of items as CSV (the filters of GET /v1/items)",
)
async def export_items(
    ctx: CtxDep,
    entity_type_id: EntityTypeIdOrCode,
    filter: Annotated[
        list[str],
        Query(description=f"<field>:<op>[:<value>], op one of {', '.join(sorted(OPS))}", max_length=30),
    ] = [],  # noqa: B006 (FastAPI copies query defaults)
    sort: Annotated[str, Query(description="a sortable field, `-` first for descending")] = "-created_at",
    q: Annotated[str | None, Query(min_length=1, max_length=200, description="text in the title")] = None,
) -> StreamingResponse:
    query = ListQuery(
        entity_type_id=entity_type_id,
        filters=tuple(parse_filter(text) for text in filter),
        sort=Sort.parse(sort),
        limit=MAX_LIMIT,
        text=q,
    )
    return await _export(ctx, query)


@router.post(
    "/items",
    response_class=Response,
    responses=text_body("text/csv"),
    summary="Export a filtered list of items as CSV (the body of POST /v1/items/search)",
)
async def export_search(ctx: CtxDep, body: ItemSearch) -> StreamingResponse:
    query = ListQuery(
        entity_type_id=body.entity_type_id,
        filters=tuple(Filter(f.field, f.op, f.value) for f in body.filters),
        sort=Sort.parse(body.sort),
        limit=MAX_LIMIT,
        text=body.q,
        in_recycle_bin=body.recycle_bin,
    )
    return await _export(ctx, query)


async def _export(ctx: Ctx, query: ListQuery) -> StreamingResponse:
    """Check the type and the filters with the first page before streaming: errors stay problem+json."""
    pool, principal = ctx.pool, ctx.principal
    async with pool.acquire() as conn:
        query = replace(query, entity_type_id=await entity_type_id_of(conn, principal.tenant_id, query.entity_type_id))
        schema = await entity_types.schema_of(conn, principal.tenant_id, query.entity_type_id)
        assert schema is not None
        rights = await access_for(
            conn,
            tenant_id=principal.tenant_id,
            user_id=principal.user_id,
            roles=principal.roles,
            entity_type_id=query.entity_type_id,
            action=Action.READ,
        )
        first = await list_items(conn, principal.tenant_id, query, schema, rights)

    async def lines() -> AsyncIterator[str]:
        yield "\ufeff" + csv_export.to_text([csv_export.header(schema)])  # the BOM lets Excel read UTF-8
        rows, cursor = first
        while True:
            yield csv_export.to_text(csv_export.line(items_table.to_item(row), schema) for row in rows)
            if cursor is None:
                return
            async with pool.acquire() as conn:
                rows, cursor = await list_items(
                    conn, principal.tenant_id, ListQuery(**{**query.__dict__, "cursor": cursor}), schema, rights
                )

    name = f"items-{query.entity_type_id}.csv"
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
