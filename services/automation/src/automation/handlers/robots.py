"""Add, change and remove robots; each change is recorded as an event with the robot's new state."""

from __future__ import annotations

import uuid
from datetime import datetime

from conveyor_contracts.automation import RobotRemoved, RobotSaved
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import NO_STREAM, EventStore, NewEvent

from automation.adapters import field_kinds
from automation.adapters import robots as robot_rows
from automation.domain import errors
from automation.domain.field_references import FieldUse, describe, misused
from automation.domain.robots import RobotSpec, SendEmail, address_problem, fields_read, recipients_of


async def save_robot(
    conn: Connection, store: EventStore, *, tenant_id: str, spec: RobotSpec, actor: Actor, robot_id: str | None = None,
    expected_version: int | None = None, now: datetime,
) -> robot_rows.Robot:  # fmt: skip
    """Add a robot to a stage, or change one (only if it is still at ``expected_version``, when given).

    Items already on the stage keep the runs scheduled for them; the change applies to later entries."""
    existing = await robot_rows.load_robot(conn, tenant_id, robot_id) if robot_id else None
    if robot_id and existing is None:
        raise errors.NotFound(f"no robot {robot_id}")
    if existing is not None:
        errors.check_version(f"robot {existing.robot_id}", existing.version, expected_version)
    await _check_fields_read(conn, tenant_id, spec)
    version = existing.version if existing else NO_STREAM
    robot = robot_rows.Robot(robot_id=robot_id or str(uuid.uuid4()), spec=spec, version=version + 1)
    await robot_rows.save_robot(conn, tenant_id, robot)
    dumped = spec.model_dump(mode="json", by_alias=True)
    saved = RobotSaved(
        robot_id=robot.robot_id, pipeline_id=spec.pipeline_id, stage_id=spec.stage_id, name=spec.name,
        position=spec.position, timing=dumped["timing"], condition=dumped["condition"], action=dumped["action"],
        wait_for_previous=spec.wait_for_previous, enabled=spec.enabled,
    )  # fmt: skip
    await store.append(
        conn, stream_id=f"robot-{robot.robot_id}", tenant_id=tenant_id, aggregate_type="robot",
        expected_version=version,
        events=[NewEvent.of(saved)], actor=actor, now=now,
    )  # fmt: skip
    return robot


async def remove_robot(
    conn: Connection, store: EventStore, *, tenant_id: str, robot_id: str, actor: Actor, now: datetime,
    expected_version: int | None = None,
) -> None:  # fmt: skip
    """Remove a robot (only if it is still at ``expected_version``, when given); timers already set for it find
    it gone and do nothing."""
    existing = await robot_rows.load_robot(conn, tenant_id, robot_id)
    if existing is None:
        raise errors.NotFound(f"no robot {robot_id}")
    errors.check_version(f"robot {robot_id}", existing.version, expected_version)
    await robot_rows.delete_robot(conn, tenant_id, robot_id)
    removed = RobotRemoved(robot_id=robot_id, pipeline_id=existing.spec.pipeline_id, stage_id=existing.spec.stage_id)
    await store.append(
        conn, stream_id=f"robot-{robot_id}", tenant_id=tenant_id, aggregate_type="robot",
        expected_version=existing.version, events=[NewEvent.of(removed)], actor=actor, now=now,
    )  # fmt: skip


async def _check_fields_read(conn: Connection, tenant_id: str, spec: RobotSpec) -> None:
    """Addresses must be addresses or ``field:<code>``; a ``field:<code>`` recipient must name a user field, an
    address an e-mail field, of the type the pipeline holds (as the entities service last told the copy)."""
    for parameter, recipients in recipients_of(spec.action).items():
        for n, recipient in enumerate(recipients):
            # Stored robots may hold one (they reach nobody), so the model reads it; a new one is refused.
            if recipient.kind in ("user", "role") and not recipient.id:
                where = f"/action/{parameter}/{n}/id"
                message = f"a {recipient.kind} recipient names its id"
                raise errors.InvalidRobot(f"{where}: {message}", errors=[{"field": where, "message": message}])
    for address in spec.action.addresses if isinstance(spec.action, SendEmail) else []:
        problem = address_problem(address)
        if problem is not None:
            raise errors.InvalidAddress(f"action.addresses: {problem}", address=address)
    uses = [FieldUse(f"action.{where}", code, kind) for where, code, kind in fields_read(spec.action)]
    if not uses:
        return
    wrong = misused(uses, await field_kinds.kinds_on_pipeline(conn, tenant_id, spec.pipeline_id))
    if wrong is not None:
        use, found = wrong
        raise errors.InvalidFieldReference(describe(use, found), field=use.code, parameter=use.where)
