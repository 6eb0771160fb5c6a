"""Administration of the reports: which department owns a stage, and rebuilding the projections."""

from __future__ import annotations

from typing import Annotated, Any

from conveyor_access import ADMIN_ROLE, OPERATOR_ROLE
from conveyor_kit.auth import Principal, require_roles
from conveyor_kit.database import pool_from
from conveyor_kit.openapi import problem_responses
from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field
from starlette.datastructures import State

from reporting.adapters.rebuild import rebuild
from reporting.entrypoints.admin_models import ProjectionsRebuilt, StageDepartmentAssignment
from reporting.routing import PROJECTIONS

router = APIRouter(prefix="/v1", tags=["administration"], responses=problem_responses(403, 404))

Admin = Annotated[Principal, Depends(require_roles(ADMIN_ROLE))]
# Rebuilding replaces the shared tables of every tenant: a platform operator's act, not a tenant admin's.
Operator = Annotated[Principal, Depends(require_roles(OPERATOR_ROLE))]


class StageDepartment(BaseModel):
    department: str = Field(min_length=1, max_length=200)


@router.put("/stage-departments/{stage_id}")
async def set_stage_department(
    request: Request, admin: Admin, stage_id: str, body: StageDepartment
) -> StageDepartmentAssignment:
    """The department whose time a stage's visits count toward (stage-time report, per-department totals)."""
    async with pool_from(request).acquire() as conn:
        await conn.execute(
            """INSERT INTO stage_departments (tenant_id, stage_id, department) VALUES ($1, $2, $3)
               ON CONFLICT (tenant_id, stage_id) DO UPDATE SET department = $3""",
            admin.tenant_id,
            stage_id,
            body.department,
        )
    return StageDepartmentAssignment(stage_id=stage_id, department=body.department)


@router.get("/stage-departments")
async def stage_departments(request: Request, admin: Admin) -> list[StageDepartmentAssignment]:
    """Every stage of the caller's tenant given a department, by stage id."""
    async with pool_from(request).acquire() as conn:
        rows = await conn.fetch(
            "SELECT stage_id, department FROM stage_departments WHERE tenant_id = $1 ORDER BY stage_id", admin.tenant_id
        )
    return [StageDepartmentAssignment.model_validate(dict(r)) for r in rows]


@router.post("/rebuild")
async def rebuild_projections(request: Request, operator: Operator) -> ProjectionsRebuilt:
    """Rebuild every projection from the journal and swap it in (all tenants: the tables are shared,
    so only a platform operator may; a tenant admin gets 403)."""
    return ProjectionsRebuilt.model_validate(await rebuild(pool_from(request), PROJECTIONS))


async def check_projection_lag(state: State) -> tuple[bool, dict[str, Any]]:
    """The projections' consumer runs; per topic, how far it is behind (messages, seconds)."""
    consumer = getattr(state, "projections", None)
    if consumer is None:
        return not state.settings.run_workers, {"workers": "disabled"}
    task = state.projections_task
    return not task.done(), {"topics": consumer.export_lag(), "lag": consumer.lag()}
