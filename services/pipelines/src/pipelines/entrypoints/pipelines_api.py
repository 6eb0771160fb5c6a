"""HTTP: pipelines of an entity type and their stages."""

from __future__ import annotations

from typing import Annotated, Any

from conveyor_kit.api_models import Page
from conveyor_kit.openapi import problem_responses
from conveyor_kit.pagination import Cursor, Limit, decode_cursor, encode_cursor, invalid_cursor
from conveyor_kit.problems import not_found
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from pipelines.adapters import catalog
from pipelines.domain.model import DEFAULT_STAGES, Semantic, StageTemplate
from pipelines.domain.transitions import TransitionRule
from pipelines.entrypoints.deps import CtxDep, EntityTypeIdOrCode
from pipelines.entrypoints.pipelines_models import Pipeline, PipelineStage
from pipelines.entrypoints.views import pipeline_view, stage_view
from pipelines.handlers import stages as stage_handlers
from pipelines.handlers.change_pipeline import change_pipeline
from pipelines.handlers.open_pipeline import open_pipeline

router = APIRouter(prefix="/v1/pipelines", tags=["pipelines"], responses=problem_responses(403, 404, 409))

Name = Annotated[str, Field(min_length=1, max_length=200)]
Color = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewPipelineStage(Strict):
    name: Name
    color: Color = "#39a8ef"
    semantic: Semantic = "in_progress"
    hidden: bool = False


class NewPipeline(Strict):
    entity_type_id: str = Field(min_length=1)
    name: Name
    is_default: bool = False
    stages: list[NewPipelineStage] | None = Field(default=None, min_length=1, max_length=100)
    card_fields: list[str] = Field(default_factory=list, max_length=20)


class PipelinePatch(Strict):
    name: Name | None = None
    sort: int | None = Field(default=None, ge=-(2**31), le=2**31 - 1)  # an integer column
    is_default: bool | None = None
    card_fields: list[str] | None = Field(default=None, max_length=20)
    transition_rules: list[TransitionRule] | None = None


class PipelineStagePatch(Strict):
    name: Name | None = None
    color: Color | None = None
    semantic: Semantic | None = None
    hidden: bool | None = None


class PipelineStageOrder(Strict):
    stage_ids: list[str] = Field(min_length=1)


async def _view(ctx: CtxDep, pipeline_id: str) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        view = await pipeline_view(conn, ctx.tenant_id, pipeline_id)
    if view is None:
        raise not_found(f"pipeline {pipeline_id} not found")
    return view


@router.get("", response_model=Page[Pipeline])
async def list_pipelines(
    ctx: CtxDep, entity_type_id: EntityTypeIdOrCode, limit: Limit = 100, cursor: Cursor = None
) -> dict[str, Any]:
    """The type's pipelines in their order (`sort`), with their stages: `{"items": [...], "next_cursor": ...}`.
    A type this service has not heard of yet is a 404: send the consistency token of its creation to wait
    for it."""
    after = decode_cursor(cursor, 2)
    if after is not None and not (
        isinstance(after[0], int) and -(2**31) <= after[0] < 2**31 and isinstance(after[1], str)
    ):
        raise invalid_cursor()
    async with ctx.pool.acquire() as conn:
        ids = await catalog.pipeline_ids_of_type(
            conn, ctx.tenant_id, entity_type_id, after=(after[0], after[1]) if after else None, limit=limit + 1
        )
        views = [v for v in [await pipeline_view(conn, ctx.tenant_id, i) for i in ids[:limit]] if v is not None]
    last = encode_cursor([views[-1]["sort"], views[-1]["id"]]) if len(ids) > limit and views else None
    return {"items": views, "next_cursor": last}


@router.post("", status_code=201, response_model=Pipeline)
async def create_pipeline(ctx: CtxDep, body: NewPipeline) -> dict[str, Any]:
    ctx.require_admin()
    templates = [StageTemplate(s.name, s.color, s.semantic) for s in body.stages] if body.stages else DEFAULT_STAGES
    async with ctx.pool.acquire() as conn, conn.transaction():
        pipeline = await open_pipeline(
            conn,
            ctx.store,
            tenant_id=ctx.tenant_id,
            entity_type_id=body.entity_type_id,
            name=body.name,
            actor=ctx.actor,
            now=ctx.now(),
            stages=templates,
            is_default=body.is_default,
            card_fields=body.card_fields,
        )
    return await _view(ctx, pipeline.pipeline_id)


@router.get("/{pipeline_id}", response_model=Pipeline)
async def get_pipeline(ctx: CtxDep, pipeline_id: str) -> dict[str, Any]:
    return await _view(ctx, pipeline_id)


@router.patch("/{pipeline_id}", response_model=Pipeline)
async def update_pipeline(ctx: CtxDep, pipeline_id: str, body: PipelinePatch) -> dict[str, Any]:
    ctx.require_admin()
    changes = body.model_dump(mode="json", exclude_none=True)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await change_pipeline(
            conn,
            ctx.store,
            tenant_id=ctx.tenant_id,
            pipeline_id=pipeline_id,
            changes=changes,
            actor=ctx.actor,
            now=ctx.now(),
        )
    return await _view(ctx, pipeline_id)


@router.post("/{pipeline_id}/stages", status_code=201, response_model=PipelineStage)
async def add_stage(ctx: CtxDep, pipeline_id: str, body: NewPipelineStage) -> dict[str, Any]:
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        stage = await stage_handlers.add_stage(
            conn,
            ctx.store,
            tenant_id=ctx.tenant_id,
            pipeline_id=pipeline_id,
            name=body.name,
            color=body.color,
            semantic=body.semantic,
            hidden=body.hidden,
            actor=ctx.actor,
            now=ctx.now(),
        )
    return stage_view(stage)


@router.patch("/{pipeline_id}/stages/{stage_id}", response_model=PipelineStage)
async def change_stage(ctx: CtxDep, pipeline_id: str, stage_id: str, body: PipelineStagePatch) -> dict[str, Any]:
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        stage = await stage_handlers.change_stage(
            conn,
            ctx.store,
            tenant_id=ctx.tenant_id,
            pipeline_id=pipeline_id,
            stage_id=stage_id,
            changes=body.model_dump(exclude_none=True),
            actor=ctx.actor,
            now=ctx.now(),
        )
    return stage_view(stage)


@router.put("/{pipeline_id}/stage-order", response_model=Pipeline)
async def reorder_stages(ctx: CtxDep, pipeline_id: str, body: PipelineStageOrder) -> dict[str, Any]:
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        await stage_handlers.reorder_stages(
            conn,
            ctx.store,
            tenant_id=ctx.tenant_id,
            pipeline_id=pipeline_id,
            stage_ids=body.stage_ids,
            actor=ctx.actor,
            now=ctx.now(),
        )
    return await _view(ctx, pipeline_id)


@router.delete("/{pipeline_id}/stages/{stage_id}", status_code=204)
async def delete_stage(
    ctx: CtxDep, pipeline_id: str, stage_id: str, move_items_to: Annotated[str | None, Query()] = None
) -> None:
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        await stage_handlers.delete_stage(
            conn,
            ctx.store,
            tenant_id=ctx.tenant_id,
            pipeline_id=pipeline_id,
            stage_id=stage_id,
            move_items_to=move_items_to,
            actor=ctx.actor,
            now=ctx.now(),
        )
