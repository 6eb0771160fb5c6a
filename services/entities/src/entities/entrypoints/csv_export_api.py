"""Exports of any filtered list of items, as CSV or XLSX: the same filters, sort, search and rights as
the items list, every page of it, in constant memory."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Annotated, Literal

from conveyor_access import Action
from conveyor_kit.openapi import problem_responses, text_body
from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from entities.adapters import entity_types
from entities.adapters import items as items_table
from entities.adapters.access import access_for
from entities.adapters.item_listing import list_items
from entities.adapters.xlsx_file import MEDIA_TYPE as XLSX
from entities.adapters.xlsx_file import XlsxSheet
from entities.domain import csv_export
from entities.domain.csv_export import ExportLines
from entities.domain.listing import MAX_LIMIT, OPS, Filter, ListQuery, Sort, parse_filter
from entities.entrypoints.deps import Ctx, CtxDep, EntityTypeIdOrCode
from entities.entrypoints.items_list_api import ItemSearch
from entities.entrypoints.work import entity_type_id_of

router = APIRouter(prefix="/v1/exports", tags=["items"], responses=problem_responses(404))

Format = Literal["csv", "xlsx"]
FilterParam = Annotated[
    list[str], Query(description=f"<field>:<op>[:<value>], op one of {', '.join(sorted(OPS))}", max_length=30)
]
SortParam = Annotated[str, Query(description="a sortable field, `-` first for descending")]
TextParam = Annotated[str | None, Query(min_length=1, max_length=200, description="text in the title")]
Lines = list[list[str]]


def _listed(entity_type_id: str, filters: list[str], sort: str, q: str | None) -> ListQuery:
    return ListQuery(
        entity_type_id=entity_type_id,
        filters=tuple(parse_filter(text) for text in filters),
        sort=Sort.parse(sort),
        limit=MAX_LIMIT,
        text=q,
    )


@router.get(
    "/items.csv",
    response_class=Response,
    responses=text_body("text/csv"),
    summary="Export a filtered list of items as CSV (the filters of GET /v1/items)",
)
async def export_items(
    ctx: CtxDep,
    entity_type_id: EntityTypeIdOrCode,
    filter: FilterParam = [],  # noqa: B006 (FastAPI copies query defaults)
    sort: SortParam = "-created_at",
    q: TextParam = None,
) -> Response:
    return await _export(ctx, _listed(entity_type_id, filter, sort, q), "csv")


@router.get(
    "/items.xlsx",
    response_class=Response,
    responses=text_body(XLSX),
    summary="Export a filtered list of items as an Excel workbook (the filters of GET /v1/items)",
)
async def export_items_xlsx(
    ctx: CtxDep,
    entity_type_id: EntityTypeIdOrCode,
    filter: FilterParam = [],  # noqa: B006 (FastAPI copies query defaults)
    sort: SortParam = "-created_at",
    q: TextParam = None,
) -> Response:
    return await _export(ctx, _listed(entity_type_id, filter, sort, q), "xlsx")


@router.post(
    "/items",
    response_class=Response,
    responses=text_body("text/csv", XLSX),
    summary="Export a filtered list of items as CSV or XLSX (the body of POST /v1/items/search)",
)
async def export_search(
    ctx: CtxDep, body: ItemSearch, format: Annotated[Format, Query(description="csv (default) or xlsx")] = "csv"
) -> Response:
    query = ListQuery(
        entity_type_id=body.entity_type_id,
        filters=tuple(Filter(f.field, f.op, f.value) for f in body.filters),
        sort=Sort.parse(body.sort),
        limit=MAX_LIMIT,
        text=body.q,
        in_recycle_bin=body.recycle_bin,
    )
    return await _export(ctx, query, format)


async def _export(ctx: Ctx, query: ListQuery, format: Format) -> Response:
    columns, pages = await _pages(ctx, query)
    name = f"items-{columns.entity_type_id}.{format}"
    if format == "xlsx":
        return await _workbook(columns.header(), pages, name)

    async def text() -> AsyncIterator[str]:
        yield "\ufeff" + csv_export.to_text([columns.header()])  # the BOM lets Excel read UTF-8
        async for lines in pages:
            yield csv_export.to_text(lines)

    return StreamingResponse(
        text(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


async def _workbook(header: list[str], pages: AsyncIterator[Lines], name: str) -> Response:
    """The workbook is finished on disk before it is sent (a zip is written last), page by page in a
    worker thread; an error before then is still a problem+json answer."""
    sheet = await asyncio.to_thread(XlsxSheet, header)
    try:
        async for lines in pages:
            await asyncio.to_thread(sheet.write, lines)
        path = await asyncio.to_thread(sheet.close)
    except BaseException:
        await asyncio.to_thread(sheet.discard)
        raise
    return FileResponse(path, media_type=XLSX, filename=name, background=BackgroundTask(os.unlink, path))


async def _pages(ctx: Ctx, query: ListQuery) -> tuple[ExportLines, AsyncIterator[Lines]]:
    """The export's columns and every page of the list as lines (list values by their labels). The type and
    the filters are checked with the first page, before anything is sent: errors stay problem+json."""
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
    lines = ExportLines(schema)

    async def pages() -> AsyncIterator[Lines]:
        rows, cursor = first
        while True:
            yield [lines.line(items_table.to_item(row)) for row in rows]
            if cursor is None:
                return
            async with pool.acquire() as conn:
                rows, cursor = await list_items(
                    conn, principal.tenant_id, replace(query, cursor=cursor), schema, rights
                )

    return lines, pages()
