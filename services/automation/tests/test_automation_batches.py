"""An import's items reach automation by the hundred in one fetch: copied and put on their stages a run at
a time, each still getting its robots, its processes and its own cause."""

from __future__ import annotations

from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest
from conveyor_contracts import entities, pipelines

pytestmark = pytest.mark.integration

NOTIFY = "conveyor.notifications.notification_command.notify.v1"
PIPE, NEW = "pipe-sales", "st-new"


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
