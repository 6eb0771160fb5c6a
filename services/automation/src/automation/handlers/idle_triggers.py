"""When "no change for N days" triggers are due: one durable timer per trigger, visit and last change.

The timers are in the visit's idle group beside idle robots' timers: a change of the item cancels
the group (and the timers are armed again from the change), leaving the stage cancels it for good.
A timer's key names the last change it counts from, so a redelivered event arms nothing twice and
a firing is never repeated."""

from __future__ import annotations

from conveyor_messaging.db import Connection
from conveyor_timers import cancel, reschedule

from automation.adapters import items
from automation.adapters import triggers as trigger_rows
from automation.domain.robot_timers import idle_group
from automation.domain.triggers import TriggerSpec

IDLE_TRIGGER_TIMER = "idle_trigger"


def _key(tenant_id: str, trigger_id: str, visit: items.Visit) -> str:
    since = visit.last_change_at.isoformat()
    return f"idle-trigger:{tenant_id}:{trigger_id}:{visit.item_id}:{visit.visit_id}:{since}"


async def _arm(conn: Connection, tenant_id: str, trigger_id: str, spec: TriggerSpec, visit: items.Visit) -> None:
    # reschedule, not schedule: a timer of the same last change cancelled by a disabled (or moved)
    # trigger comes back when the trigger does; a fired one stays fired.
    payload = {
        "trigger_id": trigger_id, "item_id": visit.item_id, "visit_id": visit.visit_id,
        "since": visit.last_change_at.isoformat(),
    }  # fmt: skip
    await reschedule(
        conn, tenant_id, _key(tenant_id, trigger_id, visit), visit.last_change_at + spec.idle_for, payload,
        kind=IDLE_TRIGGER_TIMER, group=idle_group(tenant_id, visit.item_id, visit.visit_id),
    )  # fmt: skip


async def arm_idle_triggers(conn: Connection, tenant_id: str, item: items.ItemCopy) -> None:
    """The item entered a stage or changed on it: every enabled idle trigger watching that stage waits
    from the item's last change."""
    if item.deleted or item.pipeline_id is None or item.visit_id is None or item.last_change_at is None:
        return
    visit = items.Visit(item.item_id, item.visit_id, item.last_change_at)
    kept = item.config_generation
    for trigger in await trigger_rows.triggers_of_pipeline(
        conn, tenant_id, item.pipeline_id, kind="idle", generation=kept
    ):
        if trigger.spec.enabled and trigger.spec.from_stage_id == item.stage_id:
            await _arm(conn, tenant_id, trigger.trigger_id, trigger.spec, visit)


async def rearm_for_trigger(
    conn: Connection, tenant_id: str, trigger_id: str, *, before: TriggerSpec | None, after: TriggerSpec | None
) -> None:
    """An idle trigger was added, changed or removed: the items already sitting on its watched stage
    wait by the trigger as it is now (a longer or shorter time, another stage, or not at all)."""
    if before is not None and before.kind == "idle" and before.from_stage_id is not None:
        for visit in await items.visits_on_stage(conn, tenant_id, before.pipeline_id, before.from_stage_id):
            await cancel(conn, _key(tenant_id, trigger_id, visit))
    if after is not None and after.kind == "idle" and after.enabled and after.from_stage_id is not None:
        for visit in await items.visits_on_stage(conn, tenant_id, after.pipeline_id, after.from_stage_id):
            await _arm(conn, tenant_id, trigger_id, after, visit)
