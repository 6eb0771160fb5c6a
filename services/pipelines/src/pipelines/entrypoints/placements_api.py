"""HTTP: an item's place on the board, moving it, and its stage history."""

from __future__ import annotations

from typing import Annotated, Any

from conveyor_access import Action
from conveyor_kit.openapi import problem_responses
from conveyor_kit.problems import not_found
from conveyor_kit.versions import expected_version
from conveyor_messaging.db import Connection
from fastapi import APIRouter, Header, Response
from pydantic import BaseModel, ConfigDict, Field

from pipelines.adapters import items
from pipelines.adapters.access import Access, access_for
from pipelines.entrypoints.deps import Ctx, CtxDep
from pipelines.entrypoints.placements_models import ItemPlacement, ItemStageHistory
from pipelines.entrypoints.views import item_view
from pipelines.handlers.move_item import Mover, move_item

router = APIRouter(prefix="/v1/placements", tags=["placements"], responses=problem_responses(403, 404, 409, 412, 428))


class PlacementMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_stage_id: str = Field(min_length=1)


async def _visible(ctx: Ctx, item_id: str) -> items.ItemCopy:
    """The item if the caller may read it; otherwise 404, so existence is not revealed."""
    async with ctx.pool.acquire() as conn:
        return (await _readable(conn, ctx, item_id))[0]


async def _readable(conn: Connection, ctx: Ctx, item_id: str) -> tuple[items.ItemCopy, Access]:
    """The item and the caller's rights on its type, if they may read it; otherwise 404. Items not on a
    board yet are not found either: this service shows only placed items."""
    item = await items.load_item(conn, ctx.tenant_id, item_id)
    if item is None or item.deleted:
        raise not_found(f"item {item_id} not found")
    access = await access_for(conn, ctx.principal, item.entity_type_id)
    if item.pipeline_id is None or not access.may(Action.READ, item.pipeline_id, item.assignee_id):
        raise not_found(f"item {item_id} not found")
    return item, access


@router.get("/{item_id}", response_model=ItemPlacement)
async def get_placement(ctx: CtxDep, item_id: str, response: Response) -> dict[str, Any]:
    return item_view(await _visible(ctx, item_id), response)


@router.post("/{item_id}/move", response_model=ItemPlacement)
async def move_placement(
    ctx: CtxDep,
    item_id: str,
    body: PlacementMove,
    response: Response,
    if_match: Annotated[
        str | None, Header(max_length=40, description='The placement\'s ETag as read, e.g. "3" (required).')
    ] = None,
) -> dict[str, Any]:
    """Move to `to_stage_id`. If-Match names the version read: 428 without it, 412 when it is stale."""
    expected = expected_version(if_match, required=True)
    # One connection and one reading of the caller's rights for the whole request.
    async with ctx.pool.acquire() as conn, conn.transaction():
        _, access = await _readable(conn, ctx, item_id)
        moved = await move_item(
            conn,
            ctx.store,
            tenant_id=ctx.tenant_id,
            item_id=item_id,
            to_stage_id=body.to_stage_id,
            expected_version=expected,
            mover=Mover(actor=ctx.actor, access=access),
            now=ctx.now(),
        )
    return item_view(moved, response)


@router.get("/{item_id}/stage-history", response_model=ItemStageHistory)
async def stage_history(ctx: CtxDep, item_id: str) -> dict[str, Any]:
    await _visible(ctx, item_id)
    async with ctx.pool.acquire() as conn:
        visits = await items.visits(conn, ctx.tenant_id, item_id)
    return {"item_id": item_id, "visits": visits}
