"""Save, remove and fire triggers; a firing sends MoveItem to the pipelines service and is logged."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from datetime import datetime

from conveyor_contracts.automation import TriggerRemoved, TriggerSaved
from conveyor_contracts.pipelines import MoveItem
from conveyor_kit.api_models import utc_z
from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import NO_STREAM, EventStore, NewEvent
from conveyor_timers import Timer

from automation.adapters import items, runs
from automation.adapters import triggers as trigger_rows
from automation.adapters.outbox import send_command
from automation.domain import errors
from automation.domain.conditions import holds
from automation.domain.triggers import TriggerSpec
from automation.handlers.idle_triggers import rearm_for_trigger
from automation.handlers.run_robot import record
from automation.ports import Clock


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


async def save_trigger(
    conn: Connection,
    store: EventStore,
    *,
    tenant_id: str,
    spec: TriggerSpec,
    actor: Actor,
    trigger_id: str | None = None,
    expected_version: int | None = None,
    now: datetime,
) -> tuple[trigger_rows.Trigger, str | None]:
    """Add a trigger (with a new webhook secret, returned once) or change one (only if it is still at
    ``expected_version``, when given); its secret stays."""
    existing = await trigger_rows.load_trigger(conn, tenant_id, trigger_id) if trigger_id else None
    if trigger_id and existing is None:
        raise errors.NotFound(f"no trigger {trigger_id}")
    if existing is not None:
        errors.check_version(f"trigger {existing.trigger_id}", existing.version, expected_version)
    secret = secrets.token_urlsafe(24) if existing is None else None
    trigger = trigger_rows.Trigger(
        trigger_id=trigger_id or str(uuid.uuid4()),
        spec=spec,
        secret_hash=existing.secret_hash if existing else _hash(secret or ""),
        version=(existing.version if existing else 0) + 1,
    )
    await trigger_rows.save_trigger(conn, tenant_id, trigger)
    await rearm_for_trigger(conn, tenant_id, trigger.trigger_id, before=existing.spec if existing else None, after=spec)
    saved = TriggerSaved(
        trigger_id=trigger.trigger_id, pipeline_id=spec.pipeline_id, stage_id=spec.stage_id, name=spec.name,
        kind=spec.kind, config=trigger_rows.config_of(spec), enabled=spec.enabled,
    )  # fmt: skip
    await store.append(
        conn, stream_id=f"trigger-{trigger.trigger_id}", tenant_id=tenant_id, aggregate_type="trigger",
        expected_version=existing.version if existing else NO_STREAM, events=[NewEvent.of(saved)], actor=actor, now=now,
    )  # fmt: skip
    return trigger, secret


async def remove_trigger(
    conn: Connection, store: EventStore, *, tenant_id: str, trigger_id: str, actor: Actor, now: datetime,
    expected_version: int | None = None,
) -> None:  # fmt: skip
    existing = await trigger_rows.load_trigger(conn, tenant_id, trigger_id)
    if existing is None:
        raise errors.NotFound(f"no trigger {trigger_id}")
    errors.check_version(f"trigger {trigger_id}", existing.version, expected_version)
    await trigger_rows.delete_trigger(conn, tenant_id, trigger_id)
    await rearm_for_trigger(conn, tenant_id, trigger_id, before=existing.spec, after=None)
    await store.append(
        conn, stream_id=f"trigger-{trigger_id}", tenant_id=tenant_id, aggregate_type="trigger",
        expected_version=existing.version, events=[NewEvent.of(TriggerRemoved(trigger_id=trigger_id))], actor=actor,
        now=now,
    )  # fmt: skip


async def fire_webhook_trigger(
    conn: Connection, store: EventStore, *, trigger_id: str, secret: str, item_id: str, call_id: str, now: datetime
) -> str:
    """An incoming call on a trigger's secret URL: move the item (of the trigger's pipeline) to its stage.

    Unknown trigger, wrong secret and an item of another tenant or pipeline all answer 404 alike."""
    found = await trigger_rows.find_webhook_trigger(conn, trigger_id)
    if found is None or not hmac.compare_digest(found[1].secret_hash, _hash(secret)):
        raise errors.NotFound("no such trigger")
    tenant_id, trigger = found
    item = await items.load(conn, tenant_id, item_id)
    if item is None or item.deleted or item.pipeline_id != trigger.spec.pipeline_id:
        raise errors.NotFound(f"no item {item_id} on this trigger's pipeline")
    if not trigger.spec.enabled:
        raise errors.TriggerDisabled("this trigger is switched off")
    return await _fire(conn, store, tenant_id, trigger, item, key=f"trigger:{trigger_id}:{call_id}", now=now)


async def fire_field_triggers(
    conn: Connection, store: EventStore, event: Envelope, item: items.ItemCopy, *, changed: set[str]
) -> None:
    """After a change: every field trigger of the item's pipeline whose field changed and now holds."""
    if item.pipeline_id is None or item.deleted:
        return
    field_triggers = await trigger_rows.triggers_of_pipeline(
        conn, event.tenant_id, item.pipeline_id, kind="field_value", generation=item.config_generation
    )
    for trigger in field_triggers:
        when = trigger.spec.when
        if not trigger.spec.enabled or when is None or item.stage_id == trigger.spec.stage_id:
            continue
        field = when.field.removeprefix("fields.")
        if not ({field, f"fields.{field}"} & changed) or not holds(when, item.view()):
            continue
        await _fire(
            conn, store, event.tenant_id, trigger, item, key=f"trigger:{trigger.trigger_id}:{event.id}", now=event.time
        )


async def _fire(
    conn: Connection, store: EventStore, tenant_id: str, trigger: trigger_rows.Trigger, item: items.ItemCopy, *,
    key: str, now: datetime, detail: dict[str, str] | None = None,
) -> str:  # fmt: skip
    run_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{tenant_id}|{key}"))
    if not await runs.open_run(
        conn, tenant_id, run_id=run_id, item_id=item.item_id, source_kind="trigger", source_id=trigger.trigger_id,
        source_name=trigger.spec.name, visit_id=item.visit_id, status="running", due_at=now, now=now,
    ):  # fmt: skip
        return run_id
    move = MoveItem(idempotency_key=run_id, item_id=item.item_id, to_stage_id=trigger.spec.stage_id)
    await send_command(
        conn, store, tenant_id, move, key=run_id, actor=Actor.system(f"trigger-{trigger.trigger_id}"), now=now
    )
    detail = {"to_stage_id": trigger.spec.stage_id, **(detail or {})}
    await runs.finish(conn, tenant_id, run_id, status="succeeded", now=now, detail=detail)
    await record(conn, store, tenant_id, item.item_id, run_id, "trigger", trigger.trigger_id, "succeeded", 1, None, now)
    return run_id


async def fire_process_step_triggers(
    conn: Connection, store: EventStore, tenant_id: str, item: items.ItemCopy, *, template_id: str,
    reached: list[tuple[str, str, str]], now: datetime,
) -> None:  # fmt: skip
    """A run of steps reached tasks ``(spiff task id, BPMN id, name)``: fire the item's pipeline's
    process-step triggers naming one of them. Keyed by trigger and task, so a replay fires nothing
    twice while each round of a loop is a new reach."""
    if item.pipeline_id is None or item.deleted or not reached:
        return
    step_triggers = await trigger_rows.triggers_of_pipeline(
        conn, tenant_id, item.pipeline_id, kind="process_step", generation=item.config_generation
    )
    for trigger in step_triggers:
        spec = trigger.spec
        if not spec.enabled or spec.template_id not in (None, template_id) or item.stage_id == spec.stage_id:
            continue
        for task_id, bpmn_id, name in reached:
            if spec.step in (bpmn_id, name):
                await _fire(
                    conn, store, tenant_id, trigger, item, key=f"trigger:{trigger.trigger_id}:{task_id}", now=now
                )
                break


async def fire_held_triggers(
    conn: Connection, store: EventStore, tenant_id: str, item: items.ItemCopy, *, entry_id: str, entry_kind: str,
    now: datetime,
) -> None:  # fmt: skip
    """A calendar entry of the item ended without being cancelled: fire the pipeline's held triggers."""
    if item.pipeline_id is None or item.deleted:
        return
    for trigger in await trigger_rows.triggers_of_pipeline(
        conn, tenant_id, item.pipeline_id, kind="calendar_entry_held", generation=item.config_generation
    ):
        spec = trigger.spec
        if not spec.enabled or spec.entry_kind not in (None, entry_kind) or item.stage_id == spec.stage_id:
            continue
        await _fire(
            conn, store, tenant_id, trigger, item, key=f"trigger:{trigger.trigger_id}:entry:{entry_id}", now=now
        )


async def fire_idle_trigger(conn: Connection, store: EventStore, clock: Clock, timer: Timer) -> None:
    """The timer of an idle trigger: the item sat unchanged on the watched stage for the trigger's time.

    The timer was cancelled if the item changed or left meanwhile; the checks here are for a trigger
    switched off or pointed elsewhere since (its timers are not all found then) and for a change that
    committed while the timer was being claimed."""
    tenant_id, payload = timer.tenant_id, timer.payload
    trigger = await trigger_rows.load_trigger(conn, tenant_id, payload["trigger_id"])
    item = await items.load(conn, tenant_id, payload["item_id"], lock=True)
    if trigger is None or item is None or item.deleted or item.last_change_at is None:
        return
    spec = trigger.spec
    watching = spec.kind == "idle" and spec.enabled and spec.from_stage_id == item.stage_id
    since = datetime.fromisoformat(payload["since"])
    still_idle = item.visit_id == payload["visit_id"] and item.last_change_at == since
    if not (watching and still_idle and item.pipeline_id == spec.pipeline_id):
        return
    key = f"trigger:{trigger.trigger_id}:idle:{item.visit_id}:{payload['since']}"
    await _fire(
        conn, store, tenant_id, trigger, item, key=key, now=clock.now(),
        detail={"from_stage_id": item.stage_id or "", "unchanged_since": utc_z(since)},
    )  # fmt: skip
