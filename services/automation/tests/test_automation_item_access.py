"""An item's automation log and processes follow the access rule like the item itself: a caller who
may not read the item gets 404, as for an item that does not exist (found by tests/security)."""

from __future__ import annotations

from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest
from conveyor_contracts.directory import RoleGrantsSet

CHECK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d"
    targetNamespace="https://conveyor.dev/bpmn">
  <bpmn:process id="check" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="look" name="Look at it"/>
    <bpmn:endEvent id="done"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="look"/>
    <bpmn:sequenceFlow id="f2" sourceRef="look" targetRef="done"/>
  </bpmn:process>
</bpmn:definitions>"""

pytestmark = pytest.mark.integration


async def two_managers_items(automation: Automation) -> tuple[str, str, str]:
    """Items of manager-1 and manager-2, readable by role `manager` only when they are one's own."""
    type_id = "company"
    await automation.user("manager-1", "Olga O", roles=("manager",))
    await automation.user("manager-2", "Pavel P", roles=("manager",))
    await automation.publish(
        RoleGrantsSet(role="manager", entity_type_id=type_id, actions={"read": "own"}), subject=f"role-{type_id}"
    )
    mine = await automation.item(type_id, assignee="manager-1")
    theirs = await automation.item(type_id, assignee="manager-2")
    for item_id in (mine, theirs):
        await automation.eventually(lambda i=item_id: automation.copy_of(i), lambda copy: copy is not None)
    await automation.eventually(
        lambda: automation.fetch("SELECT 1 FROM directory_role_grants WHERE tenant_id = $1", automation.tenant),
        lambda rows: len(rows) == 1,
    )
    return type_id, mine, theirs


class TestItemAccess:
    async def test_the_log_and_processes_of_an_item_one_may_not_read_are_404(self, automation: Automation) -> None:
        _, mine, theirs = await two_managers_items(automation)
        uploaded = await automation.http.post(
            "/v1/process-templates",
            json={"name": "Check", "entity_type_id": "company", "bpmn": CHECK, "start": {"mode": "manual"}},
            headers=automation.headers(),
        )
        template = uploaded.json()
        started = await automation.http.post(
            "/v1/processes", json={"template_id": template["id"], "item_id": theirs},
            headers=automation.headers(),
        )  # fmt: skip
        manager = automation.headers("manager-1", ("manager",))

        own_log = await automation.http.get(f"/v1/automation-log/{mine}", headers=manager)
        their_log = await automation.http.get(f"/v1/automation-log/{theirs}", headers=manager)
        their_processes = await automation.http.get(f"/v1/processes?item_id={theirs}", headers=manager)
        their_instance = await automation.http.get(f"/v1/processes/{started.json()['id']}", headers=manager)
        start_on_theirs = await automation.http.post(
            "/v1/processes", json={"template_id": template["id"], "item_id": theirs}, headers=manager
        )

        assert started.status_code == 201, started.text
        assert own_log.status_code == 200
        assert [r.status_code for r in (their_log, their_processes, their_instance, start_on_theirs)] == [404] * 4

    async def test_processes_of_an_unknown_item_are_404_not_an_empty_list(self, automation: Automation) -> None:
        response = await automation.http.get("/v1/processes?item_id=no-such-item", headers=automation.headers())

        assert response.status_code == 404


class TestProcessesOfAnItem:
    async def test_they_come_in_pages_in_the_order_they_started(self, automation: Automation) -> None:
        _, mine, _ = await two_managers_items(automation)
        template = (
            await automation.http.post(
                "/v1/process-templates",
                json={"name": "Check", "entity_type_id": "company", "bpmn": CHECK, "start": {"mode": "manual"}},
                headers=automation.headers(),
            )
        ).json()
        started = []
        for _ in range(3):
            response = await automation.http.post(
                "/v1/processes", json={"template_id": template["id"], "item_id": mine},
                headers=automation.headers(),
            )  # fmt: skip
            assert response.status_code == 201, response.text
            started.append(response.json()["id"])

        seen, cursor, pages = [], None, 0
        while True:
            params = {"item_id": mine, "limit": "2", **({"cursor": cursor} if cursor else {})}
            page = (await automation.http.get("/v1/processes", params=params, headers=automation.headers())).json()
            seen += [(instance["started_at"], instance["id"]) for instance in page["items"]]
            pages += 1
            cursor = page["next_cursor"]
            if cursor is None:
                break

        # By start, then id: the three started on one tick of the test clock come in id order.
        assert (sorted(i for _, i in seen), pages) == (sorted(started), 2)
        assert seen == sorted(seen)

    async def test_a_cursor_it_did_not_give_is_a_422(self, automation: Automation) -> None:
        _, mine, _ = await two_managers_items(automation)
        foreign = "WyJub3QgYSB0aW1lIiwgIngiXQ"  # ["not a time", "x"]: two parts, the first no instant

        response = await automation.http.get(
            "/v1/processes", params={"item_id": mine, "cursor": foreign}, headers=automation.headers()
        )

        assert response.status_code == 422
        assert response.json()["type"].endswith("invalid-cursor")
