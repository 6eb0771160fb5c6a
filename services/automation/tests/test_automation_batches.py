"""An import's items reach automation by the hundred in one fetch: copied and put on their stages a run at
a time, each still getting its robots, its processes and its own cause."""

from __future__ import annotations

from typing import Any
from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest
from conveyor_contracts import entities, pipelines
from conveyor_messaging.lanes import BULK, bulk_topic

pytestmark = pytest.mark.integration

NOTIFY = "conveyor.notifications.notification_command.notify.v1"
MOVE = "conveyor.pipelines.item_command.move.v1"
PIPE, NEW, PROPOSAL = "pipe-sales", "st-new", "st-proposal"


async def test_a_burst_of_created_and_placed_items_gets_one_robot_run_each_with_its_cause(
    automation: Automation,
) -> None:
    await automation.user("manager-1", "Olga Petrova")
    await automation.add_robot(
        pipeline_id=PIPE, stage_id=NEW, name="Welcome",
        action={"type": "notify", "recipients": [{"kind": "assignee"}], "body": "{{ item.title }} is yours"},
    )  # fmt: skip
    item_ids = [f"burst-{n:03d}" for n in range(150)]
    placements = {}
    for n, item_id in enumerate(item_ids):
        created = entities.ItemCreated(
            item_id=item_id, entity_type_id="deal", title=f"Company {n}", assignee_id="manager-1", created_by="import"
        )
        placed = pipelines.ItemPlaced(
            item_id=item_id, entity_type_id="deal", pipeline_id=PIPE, stage_id=NEW, stage_semantic="in_progress"
        )
        await automation.publish(created, subject=item_id)
        placements[item_id] = await automation.publish(placed, subject=item_id, source="/conveyor/pipelines")

    sent = await automation.eventually(lambda: automation.commands(NOTIFY), lambda found: len(found) >= 150)
    assert sorted(command["item"]["item_id"] for command in sent) == item_ids
    assert {command["body"] for command in sent} == {f"Company {n} is yours" for n in range(150)}
    copies = await automation.fetch(
        "SELECT item_id, created, stage_id, visit_id FROM automation_items WHERE tenant_id = $1", automation.tenant
    )
    assert len(copies) == 150
    assert all(c["created"] and c["stage_id"] == NEW and c["visit_id"] == placements[c["item_id"]].id for c in copies)
    runs = await automation.fetch(
        "SELECT item_id, count(*) AS n FROM automation_runs WHERE tenant_id = $1 AND source_kind = 'robot' GROUP BY 1",
        automation.tenant,
    )
    assert {r["item_id"]: r["n"] for r in runs} == dict.fromkeys(item_ids, 1)


async def test_an_imported_item_moved_by_a_person_before_its_import_was_read_ends_where_the_person_put_it(
    automation: Automation,
) -> None:
    """The import's events go by the bulk lane; the person's move names the placement it follows and
    waits for it (ADR 004). Read in arrival order instead, the placement would put the item back."""
    await automation.add_robot(pipeline_id=PIPE, stage_id="st-proposal", name="Marker", action={"type": "wait"})
    item_id = "imported-1"
    created = entities.ItemCreated(item_id=item_id, entity_type_id="deal", title="Imported", created_by="import")
    placed = pipelines.ItemPlaced(
        item_id=item_id, entity_type_id="deal", pipeline_id=PIPE, stage_id=NEW, stage_semantic="in_progress"
    )
    moved = pipelines.ItemMovedToStage(
        item_id=item_id, entity_type_id="deal", from_pipeline_id=PIPE, from_stage_id=NEW,
        from_semantic="in_progress", to_pipeline_id=PIPE, to_stage_id="st-proposal", to_semantic="in_progress",
        moved_by="user:manager-1", moved_at=automation.now,
    )  # fmt: skip
    bulk_created = automation.envelope(created, subject=item_id, version=1, lane=BULK)
    bulk_placed = automation.envelope(placed, subject=item_id, version=1, lane=BULK, source="/conveyor/pipelines")
    person_moved = automation.envelope(
        moved, subject=item_id, version=2, after_bulk=bulk_placed.id, source="/conveyor/pipelines"
    )

    await automation.redeliver(person_moved, moved.topic())  # the person's lane is read first
    parked = await automation.eventually(
        lambda: automation.fetch("SELECT stream_id FROM parked_events WHERE tenant_id = $1", automation.tenant),
        lambda rows: len(rows) == 1,
    )
    assert parked[0]["stream_id"] == item_id
    assert await automation.copy_of(item_id) is None, "the move waits for the placement it follows"
    await automation.redeliver(bulk_created, bulk_topic(created.topic()))
    await automation.redeliver(bulk_placed, bulk_topic(placed.topic()))

    copy = await automation.eventually(
        # its creation travels on another topic: wait for both before reading the copy
        lambda: automation.copy_of(item_id),
        lambda c: c is not None and c["stage_id"] == "st-proposal" and c["created"],
    )
    assert copy["visit_id"] == person_moved.id
    log = await automation.eventually(lambda: automation.log(item_id), lambda found: len(found["runs"]) == 1)
    assert log["runs"][0]["source_name"] == "Marker"


async def test_a_burst_of_updates_is_applied_in_order_and_each_update_fires_what_it_should(
    automation: Automation,
) -> None:
    """Two updates of each of 60 items in one burst: the copy keeps both, and the field trigger fires
    on the update that made its condition hold, once per item."""
    await automation.add_trigger(
        pipeline_id=PIPE, stage_id="st-won", name="Signed", kind="field_value",
        when={"field": "contract", "op": "eq", "value": "signed"},
    )  # fmt: skip
    item_ids = [f"updated-{n:02d}" for n in range(60)]
    for item_id in item_ids:
        created = entities.ItemCreated(item_id=item_id, entity_type_id="deal", title=item_id, created_by="import")
        placed = pipelines.ItemPlaced(
            item_id=item_id, entity_type_id="deal", pipeline_id=PIPE, stage_id=NEW, stage_semantic="in_progress"
        )
        await automation.publish(created, subject=item_id)
        await automation.publish(placed, subject=item_id, source="/conveyor/pipelines")
    await automation.eventually(
        lambda: automation.fetch(
            "SELECT 1 FROM automation_items WHERE tenant_id = $1 AND created AND stage_id IS NOT NULL",
            automation.tenant,
        ),
        lambda rows: len(rows) == 60,
    )

    for item_id in item_ids:
        await automation.update(item_id, "deal", {"fields.contract": {"old": None, "new": "signed"}})
        await automation.update(item_id, "deal", {"title": {"old": item_id, "new": f"{item_id} (renamed)"}})

    moves = await automation.eventually(lambda: automation.commands(MOVE), lambda found: len(found) >= 60)
    assert sorted(m["item_id"] for m in moves) == item_ids
    copies = await automation.eventually(
        lambda: automation.fetch(
            "SELECT item_id, title, fields->>'contract' AS contract FROM automation_items WHERE tenant_id = $1",
            automation.tenant,
        ),
        lambda rows: all(r["title"].endswith("(renamed)") for r in rows),
    )
    assert {(r["item_id"], r["contract"]) for r in copies} == {(item_id, "signed") for item_id in item_ids}


async def test_a_burst_of_moves_ends_each_visit_and_enters_each_stage_with_one_move_or_two(
    automation: Automation,
) -> None:
    """40 items leave New in one burst, one of them coming straight back: every first visit's delayed
    robot is cancelled, every entry to Proposal runs its at-once robot, the item that came back waits
    for its delayed robot again."""
    await automation.user("manager-1", "Olga Petrova")
    await automation.add_robot(
        pipeline_id=PIPE, stage_id=NEW, name="Later", timing={"mode": "after_delay", "seconds": 3600},
        action={"type": "wait"},
    )  # fmt: skip
    await automation.add_robot(
        pipeline_id=PIPE, stage_id=PROPOSAL, name="Welcome",
        action={"type": "notify", "recipients": [{"kind": "assignee"}], "body": "{{ item.title }} is in"},
    )  # fmt: skip
    item_ids = [f"moved-{n:02d}" for n in range(40)]
    for item_id in item_ids:
        created = entities.ItemCreated(
            item_id=item_id, entity_type_id="deal", title=item_id, assignee_id="manager-1", created_by="import"
        )
        await automation.publish(created, subject=item_id)
        await automation.place(item_id, "deal", PIPE, NEW)
    await automation.eventually(lambda: later_timers(automation), lambda found: len(found) == 40)

    for item_id in item_ids:
        await automation.move(item_id, "deal", PIPE, NEW, PROPOSAL)
    await automation.move(item_ids[0], "deal", PIPE, PROPOSAL, NEW)

    sent = await automation.eventually(lambda: automation.commands(NOTIFY), lambda found: len(found) >= 40)
    assert sorted(command["item"]["item_id"] for command in sent) == item_ids
    back = await automation.eventually(
        lambda: later_timers(automation), lambda found: [t["item_id"] for t in found] == [item_ids[0]]
    )
    copy = await automation.copy_of(item_ids[0])
    assert copy is not None and copy["stage_id"] == NEW and back[0]["visit_id"] == copy["visit_id"]


async def later_timers(automation: Automation) -> list[dict[str, Any]]:
    """The pending timers of the delayed robot, oldest first."""
    found: list[dict[str, Any]] = await automation.fetch(
        "SELECT payload->>'item_id' AS item_id, payload->>'visit_id' AS visit_id FROM timers"
        " WHERE tenant_id = $1 AND kind = 'robot' AND state = 'pending' ORDER BY scheduled_at",
        automation.tenant,
    )
    return found
