"""When robots are due: at once, in the reacting transaction; later, by one durable timer per robot and
visit (idle robots: per visit and last change)."""

from __future__ import annotations

from datetime import datetime

from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import EventStore
from conveyor_timers import cancel, cancel_group, cancel_groups, reschedule, schedule

from automation import follow_ups
from automation.adapters import runs, work_calendars
from automation.adapters.items import ItemCopy
from automation.adapters.robots import Robot
from automation.domain.robot_timers import ROBOT_TIMER, idle_group, run_id_for, visit_group
from automation.domain.work_calendar import WorkCalendar


async def schedule_robots_of_visit(
    conn: Connection, store: EventStore, tenant_id: str, item: ItemCopy, robots: list[Robot]
) -> None:
    """Every robot of the stage the item just entered, except those waiting for the one before them."""
    assert item.entered_at is not None
    for index, robot in enumerate(robots):
        if robot.spec.enabled and not (robot.spec.wait_for_previous and index > 0):
            await schedule_robot(conn, store, tenant_id, robot, item, base=item.entered_at)


async def schedule_robot(
    conn: Connection, store: EventStore, tenant_id: str, robot: Robot, item: ItemCopy, *, base: datetime
) -> None:
    """The robot's run on this visit: now if it runs at once on an item whose creation is known, else one
    timer; a date-field robot without its date is logged as skipped."""
    assert item.visit_id is not None and item.last_change_at is not None
    timing = robot.spec.timing
    idle = timing.mode == "idle"
    anchor = item.last_change_at if idle else None
    run_id = run_id_for(tenant_id, robot.robot_id, item.item_id, item.visit_id, anchor)
    calendar = await _calendar_for(conn, tenant_id, robot, item)
    due = timing.due(entered_at=base, last_change_at=item.last_change_at, fields=item.view(), calendar=calendar)
    if due is None and not item.created:
        return  # its date is not known before its creation: scheduled when that arrives
    if due is None:
        if await runs.open_run(
            conn, tenant_id, run_id=run_id, item_id=item.item_id, source_kind="robot", source_id=robot.robot_id,
            source_name=robot.spec.name, visit_id=item.visit_id, status="skipped", due_at=None, now=base,
        ):  # fmt: skip
            await runs.finish(
                conn, tenant_id, run_id, status="skipped", now=base, detail={"reason": f"{timing.field} is empty"}
            )
        return
    run = {"run_id": run_id, "robot_id": robot.robot_id, "item_id": item.item_id, "visit_id": item.visit_id}
    if timing.mode == "at_once" and item.created and due <= base:
        # After the rest of the fetch: a later move of the item in it ends this visit first, and a move
        # robot must then not undo it (the run is skipped, as a timer fired late would be).
        now = follow_ups.RunRobotNow(tenant_id=tenant_id, run=run, due_at=due)
        await follow_ups.dispatch_after_the_fetch(conn, store, now)
        return
    group = idle_group if idle else visit_group
    await schedule(
        conn,
        tenant_id,
        f"run:{tenant_id}:{run_id}",
        due,
        run,
        kind=ROBOT_TIMER,
        group=group(tenant_id, item.item_id, item.visit_id),
    )


async def _calendar_for(conn: Connection, tenant_id: str, robot: Robot, item: ItemCopy) -> WorkCalendar | None:
    """The tenant's work calendar for a robot timed in working time (kept with the tenant's configuration)."""
    if not robot.spec.timing.working_time:
        return None
    return await work_calendars.calendar_of(conn, tenant_id, generation=item.config_generation)


async def cancel_idle_timers(conn: Connection, tenant_id: str, item: ItemCopy) -> None:
    """The item changed: every "no change for N days" timer of its visit (robots' and triggers') is
    void; they are set again from the change."""
    assert item.visit_id is not None
    # Only what was still to come at the change: an idle run that was due before it stays due.
    group = idle_group(tenant_id, item.item_id, item.visit_id)
    await cancel_group(conn, tenant_id, group, due_after=item.last_change_at)


async def schedule_idle_robots(
    conn: Connection, store: EventStore, tenant_id: str, item: ItemCopy, robots: list[Robot]
) -> None:
    """The item changed: idle robots count again from the change."""
    for robot in robots:
        if robot.spec.enabled and robot.spec.timing.mode == "idle":
            await schedule_robot(conn, store, tenant_id, robot, item, base=item.last_change_at or item.entered_at)  # type: ignore[arg-type]


async def reschedule_date_field_robots(
    conn: Connection, tenant_id: str, item: ItemCopy, robots: list[Robot], changed: set[str]
) -> None:
    """A date field changed: robots timed before or after it move with it (unless they already ran)."""
    assert item.visit_id is not None and item.entered_at is not None
    for robot in robots:
        timing = robot.spec.timing
        if not robot.spec.enabled or timing.mode not in ("before_field", "after_field") or timing.field is None:
            continue
        if not {timing.field, f"fields.{timing.field}"} & changed:
            continue
        run_id = run_id_for(tenant_id, robot.robot_id, item.item_id, item.visit_id, None)
        calendar = await _calendar_for(conn, tenant_id, robot, item)
        entered = item.entered_at
        due = timing.due(entered_at=entered, last_change_at=entered, fields=item.view(), calendar=calendar)
        key = f"run:{tenant_id}:{run_id}"
        if due is None:
            await cancel(conn, key)
            continue
        payload = {"run_id": run_id, "robot_id": robot.robot_id, "item_id": item.item_id, "visit_id": item.visit_id}
        group = visit_group(tenant_id, item.item_id, item.visit_id)
        if await reschedule(conn, tenant_id, key, due, payload, kind=ROBOT_TIMER, group=group):
            await runs.reopen_skipped(conn, tenant_id, run_id)  # skipped while the field was empty


async def end_visit(conn: Connection, tenant_id: str, item_id: str, visit_id: str, left_at: datetime) -> None:
    """The item left the stage at ``left_at``: what was scheduled for a later time never runs.

    Runs due by then still run, however late this service hears of the move (a restart, a backlog):
    an at-once robot runs once for every entry, whether or not the item is still there when it fires.
    """
    groups = [visit_group(tenant_id, item_id, visit_id), idle_group(tenant_id, item_id, visit_id)]
    for group in groups:
        await cancel_group(conn, tenant_id, group, due_after=left_at)
    await runs.cancel_visit(conn, tenant_id, item_id, visit_id, left_at, groups)


async def end_visits(conn: Connection, ended: list[tuple[str, str, str, datetime]]) -> None:
    """``end_visit`` for many (tenant, item, visit, left_at) at once: two statements for them all."""
    visits = [
        runs.EndedVisit(tenant, item, visit, left_at, visit_group(tenant, item, visit), idle_group(tenant, item, visit))
        for tenant, item, visit, left_at in ended
    ]
    groups = [(v.tenant_id, group, v.left_at) for v in visits for group in (v.visit_group, v.idle_group)]
    await cancel_groups(conn, groups)
    await runs.cancel_visits(conn, visits)
