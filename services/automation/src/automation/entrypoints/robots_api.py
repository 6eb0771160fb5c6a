"""HTTP: robots of a stage."""

from __future__ import annotations

from typing import Annotated, Any

from conveyor_kit.openapi import problem_responses
from conveyor_kit.problems import not_found
from conveyor_kit.versions import expected_version
from fastapi import APIRouter, Header, Query

from automation.adapters import robots as robot_rows
from automation.domain.robots import RobotSpec
from automation.entrypoints.deps import CtxDep
from automation.entrypoints.robots_models import Robot
from automation.handlers.robots import remove_robot, save_robot

router = APIRouter(prefix="/v1/robots", tags=["robots"], responses=problem_responses(403, 404, 409))


def robot_view(robot: robot_rows.Robot) -> dict[str, Any]:
    return {"robot_id": robot.robot_id, "version": robot.version, **robot.spec.model_dump(mode="json", by_alias=True)}


@router.get("", response_model=list[Robot])
async def list_robots(
    ctx: CtxDep,
    pipeline_id: Annotated[str, Query(min_length=1)],
    stage_id: Annotated[str | None, Query(min_length=1)] = None,
) -> list[dict[str, Any]]:
    async with ctx.pool.acquire() as conn:
        found = await robot_rows.robots_of_pipeline(conn, ctx.tenant_id, pipeline_id)
    return [robot_view(r) for r in found if stage_id is None or r.spec.stage_id == stage_id]


@router.post("", status_code=201, response_model=Robot)
async def add_robot(ctx: CtxDep, body: RobotSpec) -> dict[str, Any]:
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        robot = await save_robot(conn, ctx.store, tenant_id=ctx.tenant_id, spec=body, actor=ctx.actor, now=ctx.now())
    return robot_view(robot)


@router.get("/{robot_id}", response_model=Robot)
async def get_robot(ctx: CtxDep, robot_id: str) -> dict[str, Any]:
    async with ctx.pool.acquire() as conn:
        robot = await robot_rows.load_robot(conn, ctx.tenant_id, robot_id)
    if robot is None:
        raise not_found(f"no robot {robot_id}")
    return robot_view(robot)


@router.put("/{robot_id}", response_model=Robot, responses=problem_responses(412))
async def change_robot(
    ctx: CtxDep,
    robot_id: str,
    body: RobotSpec,
    # The robot's ETag as given (`"3"`), or a bare version; none: overwrite whatever is there.
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> dict[str, Any]:
    ctx.require_admin()
    version = expected_version(if_match, required=False)
    async with ctx.pool.acquire() as conn, conn.transaction():
        robot = await save_robot(
            conn, ctx.store, tenant_id=ctx.tenant_id, spec=body, actor=ctx.actor, robot_id=robot_id,
            expected_version=version, now=ctx.now(),
        )  # fmt: skip
    return robot_view(robot)


@router.delete("/{robot_id}", status_code=204)
async def delete_robot(ctx: CtxDep, robot_id: str) -> None:
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        await remove_robot(conn, ctx.store, tenant_id=ctx.tenant_id, robot_id=robot_id, actor=ctx.actor, now=ctx.now())
