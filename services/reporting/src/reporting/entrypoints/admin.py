"""Administration of the reports: which department owns a stage, and rebuilding the projections."""

from __future__ import annotations

from typing import Any

from conveyor_access import OPERATOR_ROLE
from conveyor_kit.api_models import Page
from conveyor_kit.openapi import problem_responses
from conveyor_kit.pagination import Cursor, Limit, decode_cursor, encode_cursor, invalid_cursor
from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.datastructures import State

from reporting.adapters.rebuild import rebuild
from reporting.entrypoints.admin_models import ProjectionsRebuilt, StageDepartmentAssignment
from reporting.entrypoints.deps import CtxDep
from reporting.routing import PROJECTIONS

router = APIRouter(prefix="/v1", tags=["administration"], responses=problem_responses(403, 404))


class StageDepartmentChange(BaseModel):
    department: str = Field(min_length=1, max_length=200)


@router.put("/stage-departments/{stage_id}")
async def set_stage_department(ctx: CtxDep, stage_id: str, body: StageDepartmentChange) -> StageDepartmentAssignment:
    """The department whose time a stage's visits count toward (stage-time report, per-department totals)."""
    ctx.require_admin()
    async with ctx.pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO stage_departments (tenant_id, stage_id, department) VALUES ($1, $2, $3)
               ON CONFLICT (tenant_id, stage_id) DO UPDATE SET department = $3""",
            ctx.tenant_id,
            stage_id,
            body.department,
        )
    return StageDepartmentAssignment(stage_id=stage_id, department=body.department)


@router.get("/stage-departments", response_model=Page[StageDepartmentAssignment])
async def stage_departments(ctx: CtxDep, limit: Limit = 100, cursor: Cursor = None) -> dict[str, Any]:
    """The stages of the caller's tenant given a department, by stage id: `{"items": [...], "next_cursor": ...}`."""
    ctx.require_admin()
    after = decode_cursor(cursor, 1)
    if after is not None and not isinstance(after[0], str):
        raise invalid_cursor()
    async with ctx.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT stage_id, department FROM stage_departments WHERE tenant_id = $1"
            " AND ($2::text IS NULL OR stage_id > $2) ORDER BY stage_id LIMIT $3",
            ctx.tenant_id,
            after[0] if after else None,
            limit + 1,
        )
    shown = [dict(r) for r in rows[:limit]]
    return {"items": shown, "next_cursor": encode_cursor([shown[-1]["stage_id"]]) if len(rows) > limit else None}


@router.post("/rebuild")
async def rebuild_projections(ctx: CtxDep) -> ProjectionsRebuilt:
    """Rebuild every projection from the journal and swap it in (all tenants: the tables are shared,
    so only a platform operator may; a tenant admin gets 403)."""
    # Rebuilding replaces the shared tables of every tenant: a platform operator's act, not a tenant admin's.
    ctx.require_any_role(OPERATOR_ROLE)
    return ProjectionsRebuilt.model_validate(await rebuild(ctx.pool, PROJECTIONS))


async def check_projection_lag(state: State) -> tuple[bool, dict[str, Any]]:
    """The projections' consumer runs; per topic, how far it is behind (messages, seconds)."""
    consumer = getattr(state, "projections", None)
    if consumer is None:
        return not state.settings.run_workers, {"workers": "disabled"}
    task = state.projections_task
    return not task.done(), {"topics": consumer.export_lag(), "lag": consumer.lag()}
