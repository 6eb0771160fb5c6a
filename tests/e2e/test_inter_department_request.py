"""An inter-department request through HTTP, four services on one clock (issue #20).

A requester in Sales asks IT for a laptop by a deadline; the request is assigned to an engineer of IT.
The requester (the item's creator) hears of every stage the request reaches, from one robot of the
pipeline's every stage (`stage_id` "*") rather than one robot per stage, and once when the deadline
passes, from a process started on creation that waits on a timer at the request's `deadline` and names
the assignee. "Once" is shown by a later marker: a stage change after the deadline, whose notice
arrives after any second deadline notice would have."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

SERVICES = ("entities", "pipelines", "automation", "notifications")
START = datetime(2031, 3, 3, 8, 0, tzinfo=UTC)
DEADLINE = START + timedelta(days=2)
TITLE = "Laptop for the new accountant"
DEADLINE_PROCESS = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d"
    targetNamespace="https://conveyor.dev/bpmn">
  <bpmn:process id="request_deadline" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:intermediateCatchEvent id="deadline_passed" name="Deadline passed">
      <bpmn:timerEventDefinition><bpmn:timeDate>item.deadline</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:serviceTask id="tell_requester" name="Tell the requester">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="notify">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="recipients" type="str" value='"creator"'/>
            <spiffworkflow:parameter id="kind" type="str" value='"request_overdue"'/>
            <spiffworkflow:parameter id="title" type="str" value='"Past its deadline: {{ item.title }}"'/>
            <spiffworkflow:parameter id="body" type="str"
                value='"{{ item.title }} is past its deadline. {{ assignee.name }} ({{ assignee.email }}) has it."'/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:endEvent id="told"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="deadline_passed"/>
    <bpmn:sequenceFlow id="f2" sourceRef="deadline_passed" targetRef="tell_requester"/>
    <bpmn:sequenceFlow id="f3" sourceRef="tell_requester" targetRef="told"/>
  </bpmn:process>
</bpmn:definitions>"""


# Four services starting on a shared two-core box: their consumers may take a while to join.
PATIENCE = 60.0


class Story:
    """The four services on one clock file, a fresh tenant, its admin, a requester and an engineer."""

    def __init__(self, services: dict[str, Any], settled: Any) -> None:
        self.services = services
        self.settled = functools.partial(settled, within=PATIENCE)
        self.tenant = f"request-{uuid.uuid4().hex[:8]}"
        self.now = START

    def as_user(self, service: str, user: str = "admin-1", *roles: str) -> Any:
        client = self.services[service].as_user(self.tenant, user, *(roles or ("admin",)))
        client.at = self.now  # tokens are checked against the shared clock
        return client

    async def move_clock_to(self, instant: datetime) -> None:
        running = self.services["automation"]
        response = await running.http.post(running.base_url + "/v1/test/clock", json={"set_to": instant.isoformat()})
        assert response.status_code == 200 and response.json()["shared"] is True, response.text
        self.now = instant

    async def notices(self, user: str) -> list[dict[str, Any]]:
        """The user's notices, oldest first (those of one instant in no particular order)."""
        found = await self.as_user("notifications", user, "employee").ok("GET", "/v1/notifications")
        return sorted(found["items"], key=lambda n: n["created_at"])


async def set_up(story: Story) -> tuple[str, str, dict[str, str]]:
    """The request type with its deadline, Sales and IT, the requester and the engineer; the robot of
    every stage and the deadline process. Returns the type, its pipeline and its stages by name."""
    entities, pipelines, automation = story.as_user("entities"), story.as_user("pipelines"), story.as_user("automation")
    request_type = await entities.ok("POST", "/v1/entity-types", {"code": "it_request", "name": "IT request"})
    type_id = request_type["id"]
    await entities.ok(
        "POST", f"/v1/entity-types/{type_id}/fields", {"code": "deadline", "label": "Deadline", "kind": "datetime"}
    )
    for department, name in [("sales", "Sales"), ("it", "IT")]:
        await entities.ok("POST", "/v1/directory/departments", {"id": department, "name": name})
    for user_id, name, department in [("requester-1", "Olga Sales", "sales"), ("engineer-1", "Ivan Engineer", "it")]:
        body = {
            "id": user_id, "name": name, "email": f"{user_id}@example.test", "department_ids": [department],
            "roles": ["employee"],
        }  # fmt: skip
        await entities.ok("POST", "/v1/directory/users", body)
    await entities.ok(
        "PUT", "/v1/directory/roles/employee/grants",
        {"grants": [{"entity_type_id": type_id, "actions": {"read": "all", "create": "all"}}]},
    )  # fmt: skip

    async def default_pipelines() -> list[dict[str, Any]]:  # a 404 until pipelines hears of the type
        response = await pipelines.call("GET", "/v1/pipelines", params={"entity_type_id": type_id})
        return list(response.json()["items"]) if response.status_code == 200 else []

    (pipeline,) = await story.settled(default_pipelines, lambda found: len(found) == 1)
    stages = {stage["name"]: stage["id"] for stage in pipeline["stages"]}
    await automation.ok(
        "POST", "/v1/robots",
        {"pipeline_id": pipeline["id"], "stage_id": "*", "name": "Tell the requester",
         "action": {"type": "notify", "recipients": ["creator"], "kind": "request_stage",
                    "title": "{{ item.title }}: a new stage",
                    "body": "{{ item.title }} is now on stage {{ item.stage_id }}; {{ assignee.name }} has it."}},
    )  # fmt: skip
    await story.settled(  # a 404 until automation hears of the type
        lambda: automation.call(
            "POST", "/v1/process-templates",
            {"name": "Request deadline", "entity_type_id": type_id, "bpmn": DEADLINE_PROCESS,
             "start": {"mode": "on_create"}},
        ),
        lambda r: r.status_code == 201,
    )  # fmt: skip
    return type_id, pipeline["id"], stages


async def move(story: Story, item_id: str, stage_id: str) -> None:
    pipelines = story.as_user("pipelines")
    placed = await story.settled(
        lambda: pipelines.call("GET", f"/v1/placements/{item_id}"), lambda r: r.status_code == 200
    )
    etag = {"If-Match": placed.headers["ETag"]}
    await pipelines.ok("POST", f"/v1/placements/{item_id}/move", {"to_stage_id": stage_id}, headers=etag)


def of_kind(notices: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [n for n in notices if n["kind"] == kind]


class TestAnInterDepartmentRequest:
    async def test_the_requester_hears_of_every_stage_and_once_of_the_deadline_naming_the_assignee(
        self, start_service: Callable[..., Any], settled: Any, tmp_path: Path
    ) -> None:
        clock_file = tmp_path / "test-clock.json"
        async with AsyncExitStack() as stack:
            services = {
                name: await stack.enter_async_context(start_service(name, test_clock_file=clock_file))
                for name in SERVICES
            }
            story = Story(services, settled)
            settled = story.settled
            await story.move_clock_to(START)
            type_id, _, stages = await set_up(story)

            requester = story.as_user("entities", "requester-1", "employee")
            draft = {
                "entity_type_id": type_id, "title": TITLE, "assignee_id": "engineer-1",
                "fields": {"deadline": DEADLINE.isoformat()},
            }  # fmt: skip
            item_id = (await requester.ok("POST", "/v1/items", draft))["id"]

            placed = await settled(lambda: story.notices("requester-1"), lambda found: len(found) == 1)
            assert placed[0]["kind"] == "request_stage" and placed[0]["item"]["item_id"] == item_id
            assert placed[0]["body"] == f"{TITLE} is now on stage {stages['New']}; Ivan Engineer has it."

            await move(story, item_id, stages["In progress"])
            taken = await settled(lambda: story.notices("requester-1"), lambda found: len(found) == 2)
            assert f"{TITLE} is now on stage {stages['In progress']}; Ivan Engineer has it." in [
                n["body"] for n in taken
            ]

            await story.move_clock_to(DEADLINE + timedelta(minutes=1))
            late = await settled(lambda: story.notices("requester-1"), lambda found: len(found) == 3)
            [overdue] = of_kind(late, "request_overdue")
            assert overdue["title"] == f"Past its deadline: {TITLE}"
            assert overdue["body"] == (f"{TITLE} is past its deadline. Ivan Engineer (engineer-1@example.test) has it.")

            # The marker: a day later the request is done; its notice comes after anything the deadline
            # could still have sent, and the deadline was told once.
            await story.move_clock_to(DEADLINE + timedelta(days=1))
            await move(story, item_id, stages["Won"])
            everything = await settled(
                lambda: story.notices("requester-1"),
                lambda found: any(stages["Won"] in n["body"] for n in found),
            )
            assert [n["kind"] for n in everything] == [
                "request_stage",
                "request_stage",
                "request_overdue",
                "request_stage",
            ]  # fmt: skip (the first two share an instant, and a kind)
            assert of_kind(await story.notices("engineer-1"), "request_overdue") == []
            processes = await story.as_user("automation").ok("GET", "/v1/processes", params={"item_id": item_id})
            assert [p["status"] for p in processes["items"]] == ["completed"]
