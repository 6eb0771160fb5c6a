"""HTTP: robots of a stage."""

from __future__ import annotations

from typing import Annotated, Any

from conveyor_kit.api_models import Page
from conveyor_kit.openapi import problem_responses
from conveyor_kit.pagination import Cursor, Limit, decode_cursor, encode_cursor, invalid_cursor
from conveyor_kit.problems import not_found
from conveyor_kit.versions import expected_version
from fastapi import APIRouter, Query, Response

from automation.adapters import robots as robot_rows
from automation.domain.robots import RobotSpec
from automation.entrypoints.deps import CtxDep, IfMatch, tag
from automation.entrypoints.robots_models import Robot
from automation.handlers.robots import remove_robot, save_robot

router = APIRouter(prefix="/v1/robots", tags=["robots"], responses=problem_responses(403, 404, 409))


def robot_view(robot: robot_rows.Robot, response: Response | None = None) -> dict[str, Any]:
    if response is not None:
        tag(response, robot.version)
    return {"id": robot.robot_id, "version": robot.version, **robot.spec.model_dump(mode="json", by_alias=True)}


@router.get("", response_model=Page[Robot])
async def list_robots(
    ctx: CtxDep,
    pipeline_id: Annotated[str, Query(min_length=1)],
    stage_id: Annotated[str | None, Query(min_length=1)] = None,
    limit: Limit = 100,
    cursor: Cursor = None,
) -> dict[str, Any]:
    """The pipeline's robots (of one stage) by stage and position: `{"items": [...], "next_cursor": ...}`."""
    after = decode_cursor(cursor, 3)
    if after is not None and not (
        isinstance(after[0], str) and isinstance(after[1], int) and -(2**31) <= after[1] < 2**31
        and isinstance(after[2], str)
    ):  # fmt: skip
        raise invalid_cursor()
    async with ctx.pool.acquire() as conn:
        page = await robot_rows.page_of_pipeline(
            conn, ctx.tenant_id, pipeline_id, stage_id=stage_id, after=tuple(after) if after else None, limit=limit + 1
        )  # fmt: skip
    shown = page[:limit]
    last = shown[-1] if len(page) > limit else None
    return {
        "items": [robot_view(r) for r in shown],
        "next_cursor": encode_cursor([last.spec.stage_id, last.spec.position, last.robot_id]) if last else None,
    }


@router.post("", status_code=201, response_model=Robot)
async def add_robot(ctx: CtxDep, body: RobotSpec, response: Response) -> dict[str, Any]:
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        robot = await save_robot(conn, ctx.store, tenant_id=ctx.tenant_id, spec=body, actor=ctx.actor, now=ctx.now())
    return robot_view(robot, response)


@router.get("/{robot_id}", response_model=Robot)
async def get_robot(ctx: CtxDep, robot_id: str, response: Response) -> dict[str, Any]:
    """The robot; its version is the ETag to send as `If-Match` when changing or removing it."""
    async with ctx.pool.acquire() as conn:
        robot = await robot_rows.load_robot(conn, ctx.tenant_id, robot_id)
    if robot is None:
        raise not_found(f"no robot {robot_id}")
    return robot_view(robot, response)


@router.put("/{robot_id}", response_model=Robot, responses=problem_responses(412, 428))
async def change_robot(
    ctx: CtxDep, robot_id: str, body: RobotSpec, response: Response, if_match: IfMatch = None
) -> dict[str, Any]:
    """Replace the robot (If-Match required): 428 without it, 412 when another change came first."""
    ctx.require_admin()
    version = expected_version(if_match, required=True)
    async with ctx.pool.acquire() as conn, conn.transaction():
        robot = await save_robot(
            conn, ctx.store, tenant_id=ctx.tenant_id, spec=body, actor=ctx.actor, robot_id=robot_id,
            expected_version=version, now=ctx.now(),
        )  # fmt: skip
    return robot_view(robot, response)


@router.delete("/{robot_id}", status_code=204, responses=problem_responses(412, 428))
async def delete_robot(ctx: CtxDep, robot_id: str, if_match: IfMatch = None) -> None:
    """Remove the robot (If-Match required): 428 without it, 412 when another change came first."""
    ctx.require_admin()
    version = expected_version(if_match, required=True)
    async with ctx.pool.acquire() as conn, conn.transaction():
        await remove_robot(
            conn, ctx.store, tenant_id=ctx.tenant_id, robot_id=robot_id, actor=ctx.actor, now=ctx.now(),
            expected_version=version,
        )  # fmt: skip
