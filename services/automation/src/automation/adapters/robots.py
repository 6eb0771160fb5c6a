"""Robots and triggers as rows: the service's own state, written with their events."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from conveyor_messaging.db import Connection

from automation.adapters.kept_config import KEPT
from automation.adapters.rows import from_jsonb
from automation.domain.robots import EVERY_STAGE, RobotSpec


@dataclass(frozen=True, slots=True)
class Robot:
    robot_id: str
    spec: RobotSpec
    version: int


def _robot(row: Any) -> Robot:
    spec = RobotSpec.model_validate(
        {
            "pipeline_id": row["pipeline_id"],
            "stage_id": row["stage_id"],
            "name": row["name"],
            "position": row["position"],
            "timing": from_jsonb(row["timing"]),
            "condition": from_jsonb(row["condition"]) if row["condition"] else None,
            "action": from_jsonb(row["action"]),
            "wait_for_previous": row["wait_for_previous"],
            "enabled": row["enabled"],
        }
    )
    return Robot(robot_id=row["robot_id"], spec=spec, version=row["version"])


async def save_robot(conn: Connection, tenant_id: str, robot: Robot) -> None:
    spec = robot.spec
    dumped = spec.model_dump(mode="json", by_alias=True)
    await conn.execute(
        """INSERT INTO robots (tenant_id, robot_id, pipeline_id, stage_id, name, position, timing, condition, action,
                               wait_for_previous, enabled, version)
           VALUES ($1, $2, $3, $4, $5, $6, $7::text::jsonb, $8::text::jsonb, $9::text::jsonb, $10, $11, $12)
           ON CONFLICT (tenant_id, robot_id) DO UPDATE
              SET pipeline_id = EXCLUDED.pipeline_id, stage_id = EXCLUDED.stage_id, name = EXCLUDED.name,
                  position = EXCLUDED.position, timing = EXCLUDED.timing, condition = EXCLUDED.condition,
                  action = EXCLUDED.action, wait_for_previous = EXCLUDED.wait_for_previous,
                  enabled = EXCLUDED.enabled, version = EXCLUDED.version""",
        tenant_id,
        robot.robot_id,
        spec.pipeline_id,
        spec.stage_id,
        spec.name,
        spec.position,
        json.dumps(dumped["timing"]),
        json.dumps(dumped["condition"]) if spec.condition is not None else None,
        json.dumps(dumped["action"]),
        spec.wait_for_previous,
        spec.enabled,
        robot.version,
    )


async def load_robot(conn: Connection, tenant_id: str, robot_id: str) -> Robot | None:
    row = await conn.fetchrow("SELECT * FROM robots WHERE tenant_id = $1 AND robot_id = $2", tenant_id, robot_id)
    return _robot(row) if row else None


async def delete_robot(conn: Connection, tenant_id: str, robot_id: str) -> None:
    await conn.execute("DELETE FROM robots WHERE tenant_id = $1 AND robot_id = $2", tenant_id, robot_id)


async def robots_of_stage(
    conn: Connection, tenant_id: str, stage_id: str, *, pipeline_id: str | None = None, enabled_only: bool = False,
    generation: str | None = None,
) -> list[Robot]:  # fmt: skip
    """The stage's robots in their order, with the robots of every stage (``stage_id`` "*") of
    ``pipeline_id`` among them. ``generation``: the tenant's, read with the item (kept_config)."""

    async def load() -> list[Robot]:
        rows = await conn.fetch(
            "SELECT * FROM robots WHERE tenant_id = $1 AND (stage_id = $2 OR (stage_id = $4 AND pipeline_id = $3))"
            + (" AND enabled" if enabled_only else "")
            + " ORDER BY position, robot_id",
            tenant_id,
            stage_id,
            pipeline_id,
            EVERY_STAGE,
        )
        return [_robot(row) for row in rows]

    key = ("robots_of_stage", tenant_id, stage_id, pipeline_id, enabled_only)
    return await KEPT.read(generation, key, load)


async def page_of_pipeline(
    conn: Connection, tenant_id: str, pipeline_id: str, *, stage_id: str | None, after: tuple[str, int, str] | None,
    limit: int,
) -> list[Robot]:  # fmt: skip
    """A page of the pipeline's robots (of one stage) by stage, position and id, after ``after`` (that key of
    the last one a page showed)."""
    rows = await conn.fetch(
        "SELECT * FROM robots WHERE tenant_id = $1 AND pipeline_id = $2 AND ($3::text IS NULL OR stage_id = $3)"
        " AND ($4::text IS NULL OR (stage_id, position, robot_id) > ($4, $5, $6))"
        " ORDER BY stage_id, position, robot_id LIMIT $7",
        tenant_id, pipeline_id, stage_id, *(after or (None, None, None)), limit,
    )  # fmt: skip
    return [_robot(row) for row in rows]
