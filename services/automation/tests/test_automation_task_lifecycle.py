"""Tasks' lifecycle: a robot's task closes when its item leaves the stage, a process's when the process goes
on without it; admins and the user a task was opened for cancel it; admins list a tenant's tasks."""

from __future__ import annotations

import re
from typing import Any
from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest

PIPE, NEW, STAGE, WON = "pipe-onboarding", "st-new", "st-call", "st-won"
CANCELLED = "conveyor.automation.task.cancelled.v1"
CREATED = "conveyor.automation.task.created.v1"

# A call with an hour's boundary timer that escalates to the head (test_automation_processes.py has the full story).
ESCALATION = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d"
    targetNamespace="https://conveyor.dev/bpmn">
  <bpmn:process id="escalation" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="call" name="Call the client"/>
    <bpmn:boundaryEvent id="overdue" name="An hour passed" attachedToRef="call" cancelActivity="true">
      <bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:userTask id="escalate" name="The call did not happen">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="assignee" value="user:head-1"/>
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="escalated"/>
    <bpmn:endEvent id="done"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="done"/>
    <bpmn:sequenceFlow id="f3" sourceRef="overdue" targetRef="escalate"/>
    <bpmn:sequenceFlow id="f4" sourceRef="escalate" targetRef="escalated"/>
  </bpmn:process>
</bpmn:definitions>"""

# The same call, but an hour without it ends the process.
GIVE_UP = re.sub(
    r'\s*<bpmn:userTask id="escalate".*?</bpmn:userTask>|\s*<bpmn:sequenceFlow id="f4"[^>]*/>',
    "",
    ESCALATION,
    flags=re.S,
).replace('targetRef="escalate"', 'targetRef="escalated"')

pytestmark = pytest.mark.integration


async def call_robot(automation: Automation, title: str = "Contact within 10 minutes", **extra: Any) -> None:
    action = {"type": "create_task", "title": title, "assignee": {"kind": "assignee"}, **extra}
    await automation.add_robot(pipeline_id=PIPE, stage_id=STAGE, name=title, action=action)


async def item_with_a_task(automation: Automation) -> tuple[str, dict[str, Any]]:
    item_id: str = await automation.item("company", assignee="manager-1")
    await automation.move(item_id, "company", PIPE, NEW, STAGE)
    tasks = await automation.eventually(lambda: inbox(automation, "manager-1"), lambda found: item_id in _items(found))
    return item_id, next(t for t in tasks if t["item_id"] == item_id)


def _items(tasks: list[dict[str, Any]]) -> list[str]:
    return [t["item_id"] for t in tasks]


async def inbox(automation: Automation, user: str) -> list[dict[str, Any]]:
    response = await automation.http.get("/v1/tasks/inbox", headers=automation.headers(user, ()))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


async def task(automation: Automation, task_id: str) -> dict[str, Any]:
    response = await automation.http.get(f"/v1/tasks/{task_id}", headers=automation.headers())
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def cancellations(automation: Automation) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await automation.commands(CANCELLED)
    return found


class TestTasksBecomeMoot:
    async def test_a_robots_task_is_cancelled_when_its_item_leaves_the_stage(self, automation: Automation) -> None:
        await automation.user("manager-1", "Olga O")
        await call_robot(automation, due_in_seconds=600)
        item_id, opened = await item_with_a_task(automation)

        await automation.move(item_id, "company", PIPE, STAGE, WON)

        events = await automation.eventually(lambda: cancellations(automation), lambda found: len(found) == 1)
        assert [(e["task_id"], e["item_id"], e["cause"], e["overdue"]) for e in events] == [
            (opened["id"], item_id, "item_left_stage", False)
        ]
        closed = await task(automation, opened["id"])
        assert (closed["status"], closed["cancel_cause"], closed["cancelled_at"]) == (
            "cancelled", "item_left_stage", "2026-03-02T09:00:00Z",
        )  # fmt: skip
        assert await inbox(automation, "manager-1") == []

    async def test_a_task_robot_of_a_visit_already_over_opens_no_task(
        self, automation_harness: tuple[Automation, Any]
    ) -> None:
        automation, running = automation_harness
        async with running():
            await automation.user("manager-1", "Olga O")
            await call_robot(automation)
        item_id: str = await automation.item("company", assignee="manager-1")
        await automation.move(item_id, "company", PIPE, NEW, STAGE)
        await automation.move(item_id, "company", PIPE, STAGE, WON)  # while the service is down

        async with running():
            await automation.visits_settled([item_id], WON)
            log = await automation.eventually(lambda: automation.log(item_id), lambda found: found["runs"])
            assert await automation.commands(CREATED) == []
        assert [(r["source_name"], r["status"], r["detail"]["reason"]) for r in log["runs"]] == [
            ("Contact within 10 minutes", "skipped", "the item left the stage")
        ]

    @pytest.mark.parametrize(
        ("bpmn", "cause", "status"),
        [(ESCALATION, "process_moved_on", "running"), (GIVE_UP, "process_ended", "completed")],
        ids=["a boundary timer takes over", "the process ends"],
    )
    async def test_a_process_task_is_cancelled_when_its_process_goes_on_without_it(
        self, automation: Automation, bpmn: str, cause: str, status: str
    ) -> None:
        await automation.user("manager-1", "Olga O")
        await automation.user("head-1", "Irina H")
        saved = await automation.http.post(
            "/v1/process-templates",
            json={"name": "Escalation", "entity_type_id": "company", "bpmn": bpmn, "start": {"mode": "manual"}},
            headers=automation.headers(),
        )
        assert saved.status_code == 201, saved.text
        item_id = await automation.item("company", assignee="manager-1")
        await automation.eventually(lambda: automation.copy_of(item_id), lambda copy: copy is not None)
        started = await automation.http.post(
            "/v1/processes", json={"template_id": saved.json()["id"], "item_id": item_id}, headers=automation.headers()
        )
        assert started.status_code == 201, started.text
        [call] = await inbox(automation, "manager-1")

        automation.advance(3601)

        events = await automation.eventually(lambda: cancellations(automation), lambda found: len(found) == 1)
        assert [(e["task_id"], e["cause"], e["overdue"]) for e in events] == [(call["id"], cause, False)]
        assert (await task(automation, call["id"]))["status"] == "cancelled"
        assert await inbox(automation, "manager-1") == []
        response = await automation.http.get("/v1/processes", params={"item_id": item_id}, headers=automation.headers())
        assert [p["status"] for p in response.json()["items"]] == [status]


class TestCancellingATask:
    async def test_an_admin_cancels_with_a_reason_others_are_refused_and_a_closed_task_stays_closed(
        self, automation: Automation
    ) -> None:
        await automation.user("manager-1", "Olga O")
        await call_robot(automation)
        _, opened = await item_with_a_task(automation)

        assignee = await automation.http.post(
            f"/v1/tasks/{opened['id']}/cancel", json={}, headers=automation.headers("manager-1", ())
        )
        admin = await automation.http.post(
            f"/v1/tasks/{opened['id']}/cancel", json={"reason": "the client called us first"},
            headers=automation.headers("admin-1"),
        )  # fmt: skip
        again = await automation.http.post(f"/v1/tasks/{opened['id']}/cancel", headers=automation.headers("admin-1"))
        complete = await automation.http.post(
            f"/v1/tasks/{opened['id']}/complete", json={"outcome": "done"}, headers=automation.headers("manager-1", ())
        )

        assert assignee.status_code == 403
        assert admin.status_code == 200, admin.text
        assert (admin.json()["status"], admin.json()["cancelled_by"], admin.json()["cancel_reason"]) == (
            "cancelled", "admin-1", "the client called us first",
        )  # fmt: skip
        assert (again.status_code, again.json()["type"].rsplit("/", 1)[-1]) == (409, "task-closed")
        assert complete.status_code == 409
        assert [(e["cause"], e["cancelled_by"], e["reason"]) for e in await cancellations(automation)] == [
            ("cancelled", "admin-1", "the client called us first")
        ]

    async def test_the_user_who_started_a_process_by_hand_may_cancel_its_task(self, automation: Automation) -> None:
        await automation.user("manager-1", "Olga O")
        await automation.user("head-1", "Irina H")
        saved = await automation.http.post(
            "/v1/process-templates",
            json={"name": "Escalation", "entity_type_id": "company", "bpmn": ESCALATION, "start": {"mode": "manual"}},
            headers=automation.headers(),
        )
        item_id = await automation.item("company", assignee="manager-1")
        await automation.eventually(lambda: automation.copy_of(item_id), lambda copy: copy is not None)
        started = await automation.http.post(
            "/v1/processes", json={"template_id": saved.json()["id"], "item_id": item_id},
            headers=automation.headers("starter-1"),
        )  # fmt: skip
        assert started.status_code == 201, started.text
        [call] = await inbox(automation, "manager-1")

        stranger = await automation.http.post(f"/v1/tasks/{call['id']}/cancel", headers=automation.headers("x-1", ()))
        starter = await automation.http.post(
            f"/v1/tasks/{call['id']}/cancel", headers=automation.headers("starter-1", ())
        )

        assert call["created_by"] == "starter-1"
        assert stranger.status_code == 403
        assert starter.status_code == 200, starter.text
        assert starter.json()["status"] == "cancelled"


class TestTheAdminsTaskList:
    async def test_filters_narrow_the_tenants_tasks_and_pages_go_newest_first(self, automation: Automation) -> None:
        await automation.user("manager-1", "Olga O")
        await automation.user("manager-2", "Ivan I")
        await call_robot(automation, title="Call soon", due_in_seconds=600)
        first, _ = await item_with_a_task(automation)
        automation.advance(60)
        second = await automation.item("company", assignee="manager-2")
        await automation.move(second, "company", PIPE, NEW, STAGE)
        await automation.eventually(lambda: inbox(automation, "manager-2"), lambda found: len(found) == 1)
        await automation.move(first, "company", PIPE, STAGE, WON)
        await automation.eventually(lambda: cancellations(automation), lambda found: len(found) == 1)
        automation.advance(3600)

        async def listed(**params: Any) -> list[tuple[str, str]]:
            response = await automation.http.get("/v1/tasks", params=params, headers=automation.headers())
            assert response.status_code == 200, response.text
            return [(t["item_id"], t["status"]) for t in response.json()["items"]]

        assert await listed() == [(second, "open"), (first, "cancelled")]
        assert await listed(status="open") == [(second, "open")]
        assert await listed(assignee_user_id="manager-1") == [(first, "cancelled")]
        assert await listed(overdue="true") == [(second, "open")]  # the first closed before its due time
        assert await listed(item_id=first) == [(first, "cancelled")]
        assert await listed(source="robot") == [(second, "open"), (first, "cancelled")]
        assert await listed(source="process") == []
        assert await listed(due_from="2026-03-02T09:10:30Z", due_before="2026-03-02T09:12:00Z") == [(second, "open")]

        pages, cursor = [], None
        while True:
            params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
            response = await automation.http.get("/v1/tasks", params=params, headers=automation.headers())
            pages.append([t["item_id"] for t in response.json()["items"]])
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
        assert pages == [[second], [first]]

        refused = await automation.http.get("/v1/tasks", headers=automation.headers("manager-1", ()))
        assert refused.status_code == 403
