"""Reactions to other services' events: keep the copy of items, schedule robots, fire field triggers."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from conveyor_contracts import entities, pipelines
from conveyor_messaging.batches import caused_by
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore
from conveyor_timers import bring_forward

from automation.adapters import item_batches, items, list_options
from automation.adapters import robots as robot_rows
from automation.domain.robot_timers import creation_group
from automation.handlers.idle_triggers import arm_idle_triggers
from automation.handlers.processes import start_processes_on
from automation.handlers.schedule_robots import (
    cancel_idle_timers,
    end_visit,
    end_visits,
    reschedule_date_field_robots,
    schedule_idle_robots,
    schedule_robots_of_visit,
)
from automation.handlers.triggers import fire_field_triggers


async def when_items_created_copy_them(conn: Connection, store: EventStore, events: Sequence[Envelope]) -> None:
    """One statement copies the run; then each item starts the processes its type starts on creation
    and, if its placement came first, gets its date-field robots (both read kept configuration)."""
    created = {(e.tenant_id, e.data["item_id"]): (e, entities.ItemCreated.model_validate(e.data)) for e in events}
    copies = await item_batches.save_created_many(
        conn,
        [
            item_batches.Created(
                tenant_id=tenant, item_id=c.item_id, entity_type_id=c.entity_type_id, title=c.title,
                assignee_id=c.assignee_id, observer_ids=c.observer_ids, fields=c.fields, creator_id=c.created_by,
                standard={key: getattr(c, key) for key in items.STANDARD_KEYS},
            )
            for (tenant, _), (_, c) in created.items()
        ],
    )  # fmt: skip
    # Robot runs whose timer fired before the creation came (placement first) wait for it: due now.
    placed_first = [(tenant, creation_group(tenant, item_id)) for (tenant, item_id), c in copies.items() if c.stage_id]
    await bring_forward(conn, placed_first, min(event.time for event in events))
    for key, (event, _) in created.items():
        with caused_by(event):
            await _created(conn, store, event, copies[key])


async def _created(conn: Connection, store: EventStore, event: Envelope, item: items.ItemCopy) -> None:
    await start_processes_on(
        conn, store, tenant_id=event.tenant_id, item=item, before=None, event_id=event.id, now=event.time
    )
    if item.stage_id is not None and item.visit_id is not None:
        # Its placement came first (another topic): the robots timed by a date field were left for
        # now, and are scheduled (or logged as skipped, the date being empty) as on entering the stage.
        robots = await robot_rows.robots_of_stage(
            conn, event.tenant_id, item.stage_id, pipeline_id=item.pipeline_id, enabled_only=True,
            generation=item.config_generation,
        )  # fmt: skip
        dated = [r for r in robots if r.spec.timing.mode in ("before_field", "after_field")]
        await schedule_robots_of_visit(conn, store, event.tenant_id, item, dated)


async def when_items_updated_refresh_copies_and_count_idle_time_again(
    conn: Connection, store: EventStore, events: Sequence[Envelope]
) -> None:
    """One statement reads and locks the run's copies, one writes their new values; then each update
    goes on with the item as that update left it: processes on change, idle time counted again,
    date-field robots moved, field triggers. An item updated twice in the run is saved once, with
    both updates; what the reactions to the first read back from the copy is the item as it now is."""
    updates = [(event, entities.ItemUpdated.model_validate(event.data)) for event in events]
    copies = await item_batches.load_many(conn, list(dict.fromkeys((e.tenant_id, u.item_id) for e, u in updates)))
    steps: list[tuple[Envelope, entities.ItemUpdated, dict[str, Any], datetime | None, items.ItemCopy]] = []
    for event, updated in updates:
        item = copies.get((event.tenant_id, updated.item_id))
        if item is None:
            continue
        changed = _apply(item, updated.changes)
        if changed.stage_id is not None:  # idle time counts on a stage only
            last = changed.last_change_at
            changed = dataclasses.replace(changed, last_change_at=max(last, event.time) if last else event.time)
        copies[(event.tenant_id, updated.item_id)] = changed
        steps.append((event, updated, item.view(), item.last_change_at, changed))
    saved = {(e.tenant_id, u.item_id) for e, u, *_ in steps}
    await item_batches.save_values_many(
        conn,
        [
            item_batches.Values(
                tenant_id=tenant, item_id=c.item_id, title=c.title, assignee_id=c.assignee_id,
                observer_ids=c.observer_ids, standard=c.standard, fields=c.fields, last_change_at=c.last_change_at,
            )
            for (tenant, _), c in copies.items()
            if (tenant, c.item_id) in saved
        ],
    )  # fmt: skip
    for event, updated, before, idle_since, item in steps:
        with caused_by(event):
            await _updated(conn, store, event, updated, item, before, idle_since)


async def _updated(
    conn: Connection, store: EventStore, event: Envelope, updated: entities.ItemUpdated, item: items.ItemCopy,
    before: dict[str, Any], idle_since: datetime | None,
) -> None:  # fmt: skip
    await start_processes_on(
        conn, store, tenant_id=event.tenant_id, item=item, before=before, event_id=event.id, now=event.time
    )
    if item.stage_id is None or item.visit_id is None:
        return
    robots = await robot_rows.robots_of_stage(
        conn, event.tenant_id, item.stage_id, pipeline_id=item.pipeline_id, enabled_only=True,
        generation=item.config_generation,
    )  # fmt: skip
    # A change at (or, arriving late, before) the instant idle time already counts from moves nothing:
    # its timers stay as they are (cancelled and set again, their same keys would stay cancelled).
    if item.last_change_at != idle_since:
        await cancel_idle_timers(conn, event.tenant_id, item)
        await schedule_idle_robots(conn, store, event.tenant_id, item, robots)
        await arm_idle_triggers(conn, event.tenant_id, item)
    await reschedule_date_field_robots(conn, event.tenant_id, item, robots, set(updated.changes))
    await fire_field_triggers(conn, store, event, item, changed=set(updated.changes))


def _apply(item: items.ItemCopy, changes: dict[str, dict[str, Any]]) -> items.ItemCopy:
    fields, standard = dict(item.fields), dict(item.standard)
    title, assignee_id, observer_ids = item.title, item.assignee_id, list(item.observer_ids)
    for key, change in changes.items():
        new = change.get("new")
        if key.startswith("fields."):
            fields[key.removeprefix("fields.")] = new
        elif key == "title":
            title = new
        elif key == "assignee_id":
            assignee_id = new
        elif key == "observer_ids":
            observer_ids = list(new or [])
        elif key in items.STANDARD_KEYS:
            standard[key] = new
    return dataclasses.replace(
        item, fields=fields, standard=standard, title=title, assignee_id=assignee_id, observer_ids=observer_ids
    )


async def when_item_deleted_hold_its_robots(conn: Connection, store: EventStore, event: Envelope) -> None:
    await items.set_deleted(conn, event.tenant_id, event.data["item_id"], True)


async def when_item_restored_release_its_robots(conn: Connection, store: EventStore, event: Envelope) -> None:
    await items.set_deleted(conn, event.tenant_id, event.data["item_id"], False)


async def when_items_placed_schedule_robots(conn: Connection, store: EventStore, events: Sequence[Envelope]) -> None:
    """One statement puts the run's items on their first stages; then each schedules its stage's robots
    and idle triggers (kept configuration: no statement where a stage has none). An item already on a
    stage (not expected for a first placement) goes the way of a move, ending its visit first."""
    placed = {(e.tenant_id, e.data["item_id"]): (e, pipelines.ItemPlaced.model_validate(e.data)) for e in events}
    moving = await item_batches.on_a_stage(conn, list(placed))
    entries = [
        item_batches.Entry(
            tenant_id=tenant, item_id=p.item_id, entity_type_id=p.entity_type_id, pipeline_id=p.pipeline_id,
            stage_id=p.stage_id, visit_id=event.id, entered_at=event.time,
        )
        for (tenant, _), (event, p) in placed.items()
        if (tenant, p.item_id) not in moving
    ]  # fmt: skip
    copies = await item_batches.enter_stages(conn, entries) if entries else {}
    for key, (event, p) in placed.items():
        with caused_by(event):
            if key in moving:
                await _enter(conn, store, event, p.item_id, p.entity_type_id, p.pipeline_id, p.stage_id)
            else:
                await _schedule_on_entry(conn, store, event.tenant_id, copies[key])


async def when_items_entered_stages_schedule_robots(
    conn: Connection, store: EventStore, events: Sequence[Envelope]
) -> None:
    """A fetch of moves: items moved once in it (nearly all) end their visits, enter their stages and
    have their copies written a statement each for the whole run, then schedule their stage's robots
    one by one; an item moved more than once in the fetch goes move by move."""
    moves = [(event, pipelines.ItemMovedToStage.model_validate(event.data)) for event in events]
    times = Counter((event.tenant_id, moved.item_id) for event, moved in moves)
    once = [(event, moved) for event, moved in moves if times[(event.tenant_id, moved.item_id)] == 1]
    if once:
        before = await item_batches.load_many(conn, [(event.tenant_id, moved.item_id) for event, moved in once])
        ended = [
            (event.tenant_id, moved.item_id, copy.visit_id, moved.moved_at or event.time)
            for event, moved in once
            if (copy := before.get((event.tenant_id, moved.item_id))) is not None and copy.visit_id is not None
        ]
        await end_visits(conn, ended)
        entries = [
            item_batches.Entry(
                tenant_id=event.tenant_id, item_id=moved.item_id, entity_type_id=moved.entity_type_id,
                pipeline_id=moved.to_pipeline_id, stage_id=moved.to_stage_id, visit_id=event.id,
                entered_at=moved.moved_at or event.time,
            )
            for event, moved in once
        ]  # fmt: skip
        copies = await item_batches.enter_stages(conn, entries)
        for event, moved in once:
            with caused_by(event):
                await _schedule_on_entry(conn, store, event.tenant_id, copies[(event.tenant_id, moved.item_id)])
    for event, moved in moves:
        if times[(event.tenant_id, moved.item_id)] > 1:
            with caused_by(event):
                await _enter(
                    conn, store, event, moved.item_id, moved.entity_type_id, moved.to_pipeline_id, moved.to_stage_id
                )


async def _enter(
    conn: Connection, store: EventStore, event: Envelope, item_id: str, entity_type_id: str, pipeline_id: str,
    stage_id: str,
) -> None:  # fmt: skip
    tenant_id = event.tenant_id
    before = await items.load(conn, tenant_id, item_id, lock=True)
    entered_at = event.data.get("moved_at") and pipelines.ItemMovedToStage.model_validate(event.data).moved_at
    if before is not None and before.visit_id is not None:
        await end_visit(conn, tenant_id, item_id, before.visit_id, entered_at or event.time)
    item = await items.enter_stage(
        conn,
        tenant_id,
        item_id,
        entity_type_id=entity_type_id,
        pipeline_id=pipeline_id,
        stage_id=stage_id,
        visit_id=event.id,
        entered_at=entered_at or event.time,
    )
    await _schedule_on_entry(conn, store, tenant_id, item)


async def _schedule_on_entry(conn: Connection, store: EventStore, tenant_id: str, item: items.ItemCopy) -> None:
    assert item.stage_id is not None
    robots = await robot_rows.robots_of_stage(
        conn, tenant_id, item.stage_id, pipeline_id=item.pipeline_id, enabled_only=True,
        generation=item.config_generation,
    )  # fmt: skip
    await schedule_robots_of_visit(conn, store, tenant_id, item, robots)
    await arm_idle_triggers(conn, tenant_id, item)


async def when_dictionary_saved_keep_its_options(conn: Connection, store: EventStore, event: Envelope) -> None:
    options = [entities.Option.model_validate(o).model_dump() for o in event.data["options"]]
    await list_options.save_dictionary(conn, event.tenant_id, event.data["dictionary_id"], options)
