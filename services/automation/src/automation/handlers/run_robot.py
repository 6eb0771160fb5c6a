"""Running a robot when its timer fires: check the visit and the condition, act, log, go on to the next."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

import structlog
from conveyor_contracts.automation import RunOutcome, RunRecorded
from conveyor_kit.api_models import utc_z
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import ANY_VERSION, EventStore, NewEvent
from conveyor_timers import Timer, schedule

from automation import follow_ups
from automation.adapters import items, runs, work_calendars
from automation.adapters import robots as robot_rows
from automation.domain import working_context
from automation.domain.conditions import holds
from automation.domain.process_clock import service_now
from automation.domain.robot_timers import ROBOT_TIMER, creation_group, visit_group
from automation.domain.robots import EVERY_STAGE, CreateTask, MoveToStage
from automation.handlers.actions import ActionContext, NothingToDo, perform
from automation.handlers.schedule_robots import schedule_robot
from automation.ports import Clock

log = structlog.get_logger("automation.robots")

MAX_ATTEMPTS = 5
WAIT_FOR_CREATION = timedelta(hours=1)
MAX_WAITS_FOR_CREATION = 3


def retry_delay(attempts: int) -> timedelta:
    """Backoff after the n-th failed attempt: 10 s, 40 s, 160 s, 640 s (at most an hour)."""
    return timedelta(seconds=min(10 * 4 ** (attempts - 1), 3600))


async def run_robot(conn: Connection, store: EventStore, clock: Clock, timer: Timer) -> None:
    """The timer handler of kind ``robot``: one run (or one retry of it) of one robot on one item."""
    robot = await robot_rows.load_robot(conn, timer.tenant_id, timer.payload["robot_id"])
    item = await items.load(conn, timer.tenant_id, timer.payload["item_id"], lock=True)
    if robot is None:
        return  # removed since; its timers were cancelled with it, this one was already claimed
    now = clock.now()
    if item is not None and not item.created:
        await _wait_for_the_items_creation(conn, timer.tenant_id, timer, now)
        return
    await _run(conn, store, timer.tenant_id, timer.payload, timer.due_at, robot, item, now, first=False)


async def run_robot_now(conn: Connection, store: EventStore, asked: follow_ups.RunRobotNow) -> None:
    """An at-once robot, run in the transaction of the move (or placement) that put the item on its
    stage: no timer, no second transaction. A run that exists already (its event redelivered after a
    crash, a retry on its way) is left to the path that made it."""
    robot = await robot_rows.load_robot(conn, asked.tenant_id, asked.run["robot_id"])
    item = await items.load(conn, asked.tenant_id, asked.run["item_id"], lock=True)
    if robot is None or item is None:
        return
    await _run(conn, store, asked.tenant_id, asked.run, asked.due_at, robot, item, service_now(), first=True)


async def _condition_holds(
    conn: Connection, tenant_id: str, robot: robot_rows.Robot, item: items.ItemCopy, now: datetime
) -> bool:
    """The robot's condition over the item; ``now`` and working time (``next_working_time(now)``) as of the run."""
    condition = robot.spec.condition
    source = condition.model_dump_json() if condition is not None else None
    calendar = await work_calendars.calendar_if_mentioned(conn, tenant_id, source, generation=item.config_generation)
    with working_context.in_effect(calendar, now):
        return holds(condition, item.view())


async def _run(
    conn: Connection, store: EventStore, tenant_id: str, payload: dict[str, Any], due_at: datetime,
    robot: robot_rows.Robot, item: items.ItemCopy | None, now: datetime, *, first: bool,
) -> None:  # fmt: skip
    run_id = payload["run_id"]
    opened = await runs.open_run(
        conn, tenant_id, run_id=run_id, item_id=payload["item_id"], source_kind="robot",
        source_id=robot.robot_id, source_name=robot.spec.name, visit_id=payload["visit_id"], status="running",
        due_at=due_at, now=now,
    )  # fmt: skip
    if first and not opened:
        return
    run = await runs.load_run(conn, tenant_id, run_id, lock=True)
    assert run is not None
    if run.status in ("succeeded", "skipped", "cancelled"):
        return
    outcome: RunOutcome
    # A timer of a visit that has ended was due before the item left (end_visit cancels the others):
    # it runs, but a move would undo wherever the item went since, and a task would be moot at birth
    # (the move closed the visit's tasks), so those two are skipped.
    left = item is not None and item.visit_id != run.visit_id
    if item is None or item.deleted or (left and isinstance(robot.spec.action, MoveToStage | CreateTask)):
        outcome, detail, error = "skipped", {"reason": "the item left the stage"}, None
    elif not await _condition_holds(conn, tenant_id, robot, item, now):
        outcome, detail, error = "skipped", {"reason": "the condition did not hold"}, None
    else:
        actor = Actor("robot", robot.robot_id)
        context = ActionContext(conn, store, tenant_id, item, run_id, actor, now)
        try:
            async with conn.transaction():
                detail = await perform(robot.spec.action, context)
            outcome, error = "succeeded", None
        except NothingToDo as reason:
            outcome, detail, error = "skipped", {"reason": str(reason)}, None
        except Exception as failure:  # the action's own fault: logged on the run, retried with backoff
            outcome, detail, error = "failed", {}, f"{type(failure).__name__}: {failure}"
    attempt = run.attempts + 1
    if outcome == "failed" and attempt < MAX_ATTEMPTS:
        outcome = "retrying"
        due = now + retry_delay(attempt)
        await schedule(
            conn, tenant_id, f"run:{tenant_id}:{run_id}:retry-{attempt}", due, payload, kind=ROBOT_TIMER,
            group=visit_group(tenant_id, run.item_id, run.visit_id or ""),
        )  # fmt: skip
        detail = {**detail, "next_attempt_at": utc_z(due)}
    await runs.finish(conn, tenant_id, run_id, status=outcome, now=now, error=error, detail=detail)
    await record(conn, store, tenant_id, run.item_id, run_id, "robot", robot.robot_id, outcome, attempt, error, now)
    log.info("robot_ran", robot_id=robot.robot_id, item_id=run.item_id, run_id=run_id, outcome=outcome)
    if outcome in ("succeeded", "skipped") and item is not None and item.visit_id == run.visit_id:
        await _start_the_next_waiting_robot(conn, store, tenant_id, robot, item, now)


async def _wait_for_the_items_creation(conn: Connection, tenant_id: str, timer: Timer, now: datetime) -> None:
    """Only the item's placement has arrived; its creation (another topic) is on its way. The run waits
    in the item's creation group, which the creation's reaction brings forward (`bring_forward`); the
    hour is a safety net only. The group is no visit's: leaving the stage meanwhile must not cancel a
    run that was due while the item was there."""
    waited = int(timer.payload.get("waited_for_creation", 0)) + 1
    if waited > MAX_WAITS_FOR_CREATION:
        log.error("robot_item_never_created", run_id=timer.payload["run_id"], item_id=timer.payload["item_id"])
        return
    await schedule(
        conn, tenant_id, f"run:{tenant_id}:{timer.payload['run_id']}:until-created-{waited}",
        now + WAIT_FOR_CREATION, {**timer.payload, "waited_for_creation": waited}, kind=ROBOT_TIMER,
        group=creation_group(tenant_id, timer.payload["item_id"]),
    )  # fmt: skip


async def _start_the_next_waiting_robot(
    conn: Connection, store: EventStore, tenant_id: str, robot: robot_rows.Robot, item: items.ItemCopy, now: datetime
) -> None:
    stage = item.stage_id if robot.spec.stage_id == EVERY_STAGE else robot.spec.stage_id
    if stage is None:
        return
    stage_robots = await robot_rows.robots_of_stage(
        conn, tenant_id, stage, pipeline_id=robot.spec.pipeline_id, enabled_only=True,
        generation=item.config_generation,
    )  # fmt: skip
    ids = [r.robot_id for r in stage_robots]
    if robot.robot_id not in ids:
        return
    following = stage_robots[ids.index(robot.robot_id) + 1 :]
    if following and following[0].spec.wait_for_previous:
        await schedule_robot(conn, store, tenant_id, following[0], item, base=now)


async def record(
    conn: Connection,
    store: EventStore,
    tenant_id: str,
    item_id: str,
    run_id: str,
    source_kind: Literal["robot", "trigger"],
    source_id: str,
    outcome: RunOutcome,
    attempt: int,
    error: str | None,
    now: datetime,
) -> None:
    """Publish the run's outcome (timelines and reporting follow it)."""
    event = RunRecorded(
        run_id=run_id, item_id=item_id, source_kind=source_kind, source_id=source_id,
        outcome=outcome, attempt=attempt, detail=error,
    )  # fmt: skip
    await store.append(
        conn,
        stream_id=f"run-{run_id}",
        tenant_id=tenant_id,
        aggregate_type="run",
        expected_version=ANY_VERSION,
        events=[NewEvent.of(event)],
        actor=Actor("robot", source_id) if source_kind == "robot" else Actor.system("triggers"),
        now=now,
    )
