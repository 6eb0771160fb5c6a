"""HTTP: a pipeline's kanban board and the next pages of its columns."""

from __future__ import annotations

from typing import Annotated, Any

from conveyor_access import Action
from conveyor_kit.openapi import problem_responses
from conveyor_kit.problems import not_found
from fastapi import APIRouter, Query, Request

from pipelines.adapters import board, catalog, list_labels
from pipelines.adapters.access import access_for
from pipelines.entrypoints.board_models import BoardColumnPage, PipelineBoard
from pipelines.entrypoints.deps import Ctx, CtxDep
from pipelines.entrypoints.views import stage_view

router = APIRouter(prefix="/v1/pipelines", tags=["board"], responses=problem_responses(404))

Limit = Annotated[int, Query(ge=1, le=100)]
FIELD_PREFIX = "field."


def _card(row: dict[str, Any], card_fields: list[str], labels: dict[str, dict[str, str]]) -> dict[str, Any]:
    fields = {code: row["fields"].get(code) for code in card_fields}
    return {
        "item_id": row["item_id"],
        "title": row["title"],
        "assignee_id": row["assignee_id"],
        "amount": str(row["amount"]) if row["amount"] is not None else None,
        "currency": row["currency"],
        "updated_at": row["updated_at"],
        "version": row["version"],
        "fields": fields,
        "labels": {
            code: _label(value, labels[code]) for code, value in fields.items() if code in labels and value is not None
        },
    }


def _label(value: Any, labels: dict[str, str]) -> str | list[str]:
    """A list value's label (labels, in order, for a multiple one); an unknown option id stands for itself."""
    if isinstance(value, list):
        return [labels.get(str(v), str(v)) for v in value]
    return labels.get(str(value), str(value))


def _page(
    rows: list[dict[str, Any]], limit: int, card_fields: list[str], labels: dict[str, dict[str, str]]
) -> tuple[list[dict[str, Any]], str | None]:
    more = len(rows) > limit
    rows = rows[:limit]
    cursor = board.encode_cursor(rows[-1]["updated_at"], rows[-1]["item_id"]) if more else None
    return [_card(r, card_fields, labels) for r in rows], cursor


async def _setup(
    ctx: Ctx, request: Request, pipeline_id: str, assignee_id: list[str] | None
) -> tuple[Any, board.BoardFilter]:
    async with ctx.pool.acquire() as conn:
        row = await catalog.pipeline_row(conn, ctx.tenant_id, pipeline_id)
        if row is None:
            raise not_found(f"pipeline {pipeline_id} not found")
        access = await access_for(conn, ctx.principal, row["entity_type_id"])
    fields = {k.removeprefix(FIELD_PREFIX): v for k, v in request.query_params.items() if k.startswith(FIELD_PREFIX)}
    flt = board.BoardFilter(
        scope=access.scope(Action.READ, pipeline_id),
        viewer=access.viewer,
        assignee_ids=assignee_id or [],
        field_values=fields,
    )
    return row, flt


@router.get("/{pipeline_id}/board", response_model=PipelineBoard)
async def get_board(
    ctx: CtxDep,
    request: Request,
    pipeline_id: str,
    limit: Limit = 20,
    assignee_id: Annotated[list[str] | None, Query()] = None,
    include_hidden: bool = False,
) -> dict[str, Any]:
    """One column per stage: count, amount sum and the first `limit` cards, newest change first.

    Filters: `assignee_id` (repeatable) and `field.<code>=<value>`; only items the caller may read.
    """
    row, flt = await _setup(ctx, request, pipeline_id, assignee_id)
    async with ctx.pool.acquire() as conn:
        stages = [
            s for s in await catalog.stages_of(conn, ctx.tenant_id, pipeline_id) if include_hidden or not s.hidden
        ]
        totals = await board.column_totals(conn, ctx.tenant_id, pipeline_id, flt)
        pages = await board.first_pages(conn, ctx.tenant_id, pipeline_id, [s.stage_id for s in stages], flt, limit)
        labels = await list_labels.labels_of(conn, ctx.tenant_id, row["entity_type_id"], row["card_fields"])
    columns = []
    for stage in stages:
        cards, cursor = _page(pages[stage.stage_id], limit, row["card_fields"], labels)
        count, total = totals.get(stage.stage_id, (0, 0))
        columns.append(
            {
                "stage": stage_view(stage),
                "count": count,
                "amount_sum": str(total),
                "cards": cards,
                "next_cursor": cursor,
            }
        )
    return {"pipeline_id": pipeline_id, "name": row["name"], "columns": columns}


@router.get("/{pipeline_id}/board/columns/{stage_id}", response_model=BoardColumnPage)
async def get_column_page(
    ctx: CtxDep,
    request: Request,
    pipeline_id: str,
    stage_id: str,
    cursor: str | None = None,
    limit: Limit = 20,
    assignee_id: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    """The next page of one column, after `cursor` (a column's `next_cursor`)."""
    row, flt = await _setup(ctx, request, pipeline_id, assignee_id)
    after = board.decode_cursor(cursor) if cursor else None
    async with ctx.pool.acquire() as conn:
        stage = await catalog.load_stage(conn, ctx.tenant_id, stage_id)
        if stage is None or stage.pipeline_id != pipeline_id:
            raise not_found(f"stage {stage_id} not found in pipeline {pipeline_id}")
        rows = await board.next_page(conn, ctx.tenant_id, pipeline_id, stage_id, flt, limit, after)
        labels = await list_labels.labels_of(conn, ctx.tenant_id, row["entity_type_id"], row["card_fields"])
    cards, next_cursor = _page(rows, limit, row["card_fields"], labels)
    return {"stage_id": stage_id, "cards": cards, "next_cursor": next_cursor}
