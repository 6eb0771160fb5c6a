"""The lead-SLA story through HTTP, on one shared clock: a new lead gets a task, a retry after two working
hours, another call at the next working morning, and an escalation to the head when still untouched; the
lead turns interesting, which ends the SLA (a conditional boundary on the SLA sub-process) and closes its
open tasks as cancelled, and nothing is escalated afterwards.

Issue #20 found the SLA escalating twice after the lead was taken into work. The proof that nothing is
escalated after the interest is a later notice to the same head, from the same process (the branch that
interest opens, due after the next escalation would have been): once it is there, the escalation due
before it would have been too."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

SERVICES = ("entities", "pipelines", "automation", "notifications")
MONDAY_10 = datetime(2031, 3, 3, 10, 0, tzinfo=UTC)  # a Monday; the calendar works 09:00-18:00 UTC
MONDAY_NOON = datetime(2031, 3, 3, 12, 0, 1, tzinfo=UTC)  # two working hours on
TUESDAY_9 = datetime(2031, 3, 4, 9, 0, 1, tzinfo=UTC)  # the next working morning
TUESDAY_10 = datetime(2031, 3, 4, 10, 1, tzinfo=UTC)  # a working hour of it (from 09:00:01) without contact
TUESDAY_1030 = datetime(2031, 3, 4, 10, 30, tzinfo=UTC)  # the lead turns out interested
WEDNESDAY_11 = datetime(2031, 3, 5, 11, 0, 1, tzinfo=UTC)  # past Wednesday's 10:00 escalation

SLA_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="lead-sla-definitions"
    targetNamespace="https://conveyor.dev/bpmn">
  <bpmn:process id="lead_sla" isExecutable="true">
    <bpmn:startEvent id="new_lead"/>
    <bpmn:subProcess id="sla" name="Contact SLA">
      <bpmn:startEvent id="sla_start"/>
      <bpmn:parallelGateway id="open"/>
      <bpmn:userTask id="contact" name="Contact the new lead"/>
      <bpmn:intermediateCatchEvent id="two_hours" name="Two working hours">
        <bpmn:timerEventDefinition><bpmn:timeDuration>in_working_time(hours(2))</bpmn:timeDuration>
        </bpmn:timerEventDefinition>
      </bpmn:intermediateCatchEvent>
      <bpmn:parallelGateway id="retry_and_wait"/>
      <bpmn:userTask id="retry" name="Retry: call the lead again"/>
      <bpmn:intermediateCatchEvent id="next_morning" name="Next working morning">
        <bpmn:timerEventDefinition><bpmn:timeDate>next_working_time(now, "09:00")</bpmn:timeDate>
        </bpmn:timerEventDefinition>
      </bpmn:intermediateCatchEvent>
      <bpmn:parallelGateway id="morning_and_wait"/>
      <bpmn:userTask id="morning" name="Call the lead in the morning"/>
      <bpmn:intermediateCatchEvent id="overdue" name="An hour into the morning">
        <bpmn:timerEventDefinition><bpmn:timeDuration>in_working_time(hours(1))</bpmn:timeDuration>
        </bpmn:timerEventDefinition>
      </bpmn:intermediateCatchEvent>
      <bpmn:serviceTask id="escalate" name="Escalate to the head">
        <bpmn:extensionElements>
          <spiffworkflow:serviceTaskOperator id="notify">
            <spiffworkflow:parameters>
              <spiffworkflow:parameter id="recipients" type="str" value='"head_of:assignee"'/>
              <spiffworkflow:parameter id="kind" type="str" value='"sla_breach"'/>
              <spiffworkflow:parameter id="body" type="str" value='"Lead not contacted: " + item.title'/>
            </spiffworkflow:parameters>
          </spiffworkflow:serviceTaskOperator>
        </bpmn:extensionElements>
      </bpmn:serviceTask>
      <bpmn:intermediateCatchEvent id="next_day" name="The next working day at 10:00">
        <bpmn:timerEventDefinition><bpmn:timeDate>next_working_time(now + hours(1), "10:00")</bpmn:timeDate>
        </bpmn:timerEventDefinition>
      </bpmn:intermediateCatchEvent>
      <bpmn:exclusiveGateway id="again" default="s16"/>
      <bpmn:endEvent id="contacted"/>
      <bpmn:endEvent id="retried"/>
      <bpmn:endEvent id="called_in_the_morning"/>
      <bpmn:sequenceFlow id="s1" sourceRef="sla_start" targetRef="open"/>
      <bpmn:sequenceFlow id="s2" sourceRef="open" targetRef="contact"/>
      <bpmn:sequenceFlow id="s3" sourceRef="contact" targetRef="contacted"/>
      <bpmn:sequenceFlow id="s4" sourceRef="open" targetRef="two_hours"/>
      <bpmn:sequenceFlow id="s5" sourceRef="two_hours" targetRef="retry_and_wait"/>
      <bpmn:sequenceFlow id="s6" sourceRef="retry_and_wait" targetRef="retry"/>
      <bpmn:sequenceFlow id="s7" sourceRef="retry" targetRef="retried"/>
      <bpmn:sequenceFlow id="s8" sourceRef="retry_and_wait" targetRef="next_morning"/>
      <bpmn:sequenceFlow id="s9" sourceRef="next_morning" targetRef="morning_and_wait"/>
      <bpmn:sequenceFlow id="s10" sourceRef="morning_and_wait" targetRef="morning"/>
      <bpmn:sequenceFlow id="s11" sourceRef="morning" targetRef="called_in_the_morning"/>
      <bpmn:sequenceFlow id="s12" sourceRef="morning_and_wait" targetRef="overdue"/>
      <bpmn:sequenceFlow id="s13" sourceRef="overdue" targetRef="escalate"/>
      <bpmn:sequenceFlow id="s14" sourceRef="escalate" targetRef="next_day"/>
      <bpmn:sequenceFlow id="s15" sourceRef="next_day" targetRef="again"/>
      <bpmn:sequenceFlow id="s16" sourceRef="again" targetRef="escalate"/>
    </bpmn:subProcess>
    <bpmn:boundaryEvent id="interested" name="The lead is interested" attachedToRef="sla" cancelActivity="true">
      <bpmn:conditionalEventDefinition><bpmn:condition>item.interested == True</bpmn:condition>
      </bpmn:conditionalEventDefinition>
    </bpmn:boundaryEvent>
    <bpmn:intermediateCatchEvent id="a_day_later" name="A working day later">
      <bpmn:timerEventDefinition><bpmn:timeDate>next_working_time(now + days(1), "11:00")</bpmn:timeDate>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:serviceTask id="tell_the_head" name="Tell the head the lead is in work">
      <bpmn:extensionElements>
        <spiffworkflow:serviceTaskOperator id="notify">
          <spiffworkflow:parameters>
            <spiffworkflow:parameter id="recipients" type="str" value='"head_of:assignee"'/>
            <spiffworkflow:parameter id="kind" type="str" value='"lead_in_work"'/>
            <spiffworkflow:parameter id="body" type="str" value='"In work since yesterday: " + item.title'/>
          </spiffworkflow:parameters>
        </spiffworkflow:serviceTaskOperator>
      </bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:endEvent id="sla_over"/>
    <bpmn:endEvent id="in_work"/>
    <bpmn:sequenceFlow id="f1" sourceRef="new_lead" targetRef="sla"/>
    <bpmn:sequenceFlow id="f2" sourceRef="sla" targetRef="sla_over"/>
    <bpmn:sequenceFlow id="f3" sourceRef="interested" targetRef="a_day_later"/>
    <bpmn:sequenceFlow id="f4" sourceRef="a_day_later" targetRef="tell_the_head"/>
    <bpmn:sequenceFlow id="f5" sourceRef="tell_the_head" targetRef="in_work"/>
  </bpmn:process>
</bpmn:definitions>"""


class Story:
    """Four services on one clock file; an admin of a fresh tenant, a manager and her head."""

    def __init__(self, services: dict[str, Any], settled: Any) -> None:
        self.services = services
        self.settled = settled
        self.tenant = f"sla-{uuid.uuid4().hex[:8]}"
        self.now = MONDAY_10

    def as_user(self, service: str, user: str = "admin-1", *roles: str) -> Any:
        client = self.services[service].as_user(
            self.tenant, user, *(roles or (("admin",) if user == "admin-1" else ()))
        )
        client.at = self.now  # tokens are checked against the shared clock
        return client

    async def move_clock_to(self, instant: datetime) -> None:
        running = self.services["automation"]
        response = await running.http.post(running.base_url + "/v1/test/clock", json={"set_to": instant.isoformat()})
        assert response.status_code == 200 and response.json()["shared"] is True, response.text
        self.now = instant

    async def inbox(self, user: str = "manager-1") -> list[str]:
        found = await self.as_user("automation", user).ok("GET", "/v1/tasks/inbox")
        return sorted(task["title"] for task in found["items"])

    async def notices(self, user: str = "head-1") -> list[tuple[str, str]]:
        found = await self.as_user("notifications", user).ok("GET", "/v1/notifications")
        return sorted((notice["kind"], notice["title"]) for notice in found["items"])


async def a_lead_type_with_its_sla(story: Story) -> str:
    entities, automation = story.as_user("entities"), story.as_user("automation")
    lead_type = await entities.ok("POST", "/v1/entity-types", {"code": "lead", "name": "Lead"})
    field = {"code": "interested", "label": "Interested", "kind": "boolean"}
    await entities.ok("POST", f"/v1/entity-types/{lead_type['id']}/fields", field)
    await entities.ok("POST", "/v1/directory/departments", {"id": "sales", "name": "Sales"})
    for user_id, name in [("head-1", "Irina Head"), ("manager-1", "Olga Petrova")]:
        body = {"id": user_id, "name": name, "email": f"{user_id}@example.test", "department_ids": ["sales"]}
        await entities.ok("POST", "/v1/directory/users", body)
    await entities.ok("PATCH", "/v1/directory/departments/sales", {"head_user_id": "head-1"})
    calendar = await automation.call("GET", "/v1/work-calendar")
    await automation.ok(
        "PUT", "/v1/work-calendar",
        {"time_zone": "UTC", "working_days": ["mon", "tue", "wed", "thu", "fri"],
         "hours": [{"start": "09:00", "end": "18:00"}]},
        headers={"If-Match": calendar.headers["ETag"]},
    )  # fmt: skip
    await automation.ok(
        "POST", "/v1/process-templates",
        {"name": "Lead SLA", "entity_type_id": lead_type["id"], "bpmn": SLA_BPMN, "start": {"mode": "on_create"}},
    )  # fmt: skip
    return str(lead_type["id"])


async def mark_interested(story: Story, item_id: str) -> None:
    entities = story.as_user("entities")
    current = await entities.call("GET", f"/v1/items/{item_id}")
    await entities.ok(
        "PATCH", f"/v1/items/{item_id}", {"fields": {"interested": True}}, headers={"If-Match": current.headers["ETag"]}
    )


class TestLeadSla:
    async def test_interest_ends_the_sla_closes_its_tasks_and_nothing_is_escalated_afterwards(
        self, start_service: Callable[..., Any], settled: Any, tmp_path: Path
    ) -> None:
        clock_file = tmp_path / "test-clock.json"
        async with AsyncExitStack() as stack:
            services = {
                name: await stack.enter_async_context(start_service(name, test_clock_file=clock_file))
                for name in SERVICES
            }
            story = Story(services, settled)
            await story.move_clock_to(MONDAY_10)
            lead_type = await a_lead_type_with_its_sla(story)
            body = {"entity_type_id": lead_type, "title": "ACME Ltd", "assignee_id": "manager-1",
                    "fields": {"interested": False}}  # fmt: skip
            lead = (await story.as_user("entities").ok("POST", "/v1/items", body))["id"]

            first = await settled(story.inbox, lambda found: found == ["Contact the new lead"])
            await story.move_clock_to(MONDAY_NOON)
            retried = await settled(story.inbox, lambda found: len(found) == 2)
            await story.move_clock_to(TUESDAY_9)
            morning = await settled(story.inbox, lambda found: len(found) == 3)
            await story.move_clock_to(TUESDAY_10)
            escalated = await settled(story.notices, lambda found: any(k == "sla_breach" for k, _ in found))

            assert first == ["Contact the new lead"]
            assert retried == ["Contact the new lead", "Retry: call the lead again"]
            assert morning == ["Call the lead in the morning", "Contact the new lead", "Retry: call the lead again"]
            assert escalated == [("sla_breach", "Lead not contacted: ACME Ltd")]

            await story.move_clock_to(TUESDAY_1030)
            await mark_interested(story, lead)

            await settled(story.inbox, lambda found: found == [])
            tasks = await story.as_user("automation").ok("GET", "/v1/tasks", params={"item_id": lead})
            assert sorted((t["title"], t["status"], t["cancel_cause"]) for t in tasks["items"]) == [
                ("Call the lead in the morning", "cancelled", "process_moved_on"),
                ("Contact the new lead", "cancelled", "process_moved_on"),
                ("Retry: call the lead again", "cancelled", "process_moved_on"),
            ]

            await story.move_clock_to(WEDNESDAY_11)
            later = await settled(story.notices, lambda found: any(kind == "lead_in_work" for kind, _ in found))

            assert later == [
                ("lead_in_work", "In work since yesterday: ACME Ltd"),
                ("sla_breach", "Lead not contacted: ACME Ltd"),
            ]
            # Automation's side too: the Wednesday 10:00 timer (due before the notice's) woke nothing to notify.
            log = await story.as_user("automation").ok("GET", f"/v1/automation-log/{lead}")
            notified = [
                (run["source_name"], run["created_at"]) for run in log["runs"] if run["source_name"] == "action: notify"
            ]
            assert notified == [("action: notify", "2031-03-04T10:01:00Z"), ("action: notify", "2031-03-05T11:00:01Z")]
            processes = await story.as_user("automation").ok("GET", "/v1/processes", params={"item_id": lead})
            assert [p["status"] for p in processes["items"]] == ["completed"]
