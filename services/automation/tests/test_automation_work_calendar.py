"""A tenant's work calendar: read by anyone, changed by admins with If-Match; robots, task due dates and
process timers count working time on it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest

pytestmark = pytest.mark.integration

NOTIFY = "conveyor.notifications.notification_command.notify.v1"
SAVED = "conveyor.automation.work_calendar.saved.v1"
PIPE, NEW, PROPOSAL = "pipe-sales", "st-new", "st-proposal"
BERLIN_OFFICE = {
    "time_zone": "Europe/Berlin", "hours": [{"start": "09:00", "end": "18:00"}], "holidays": ["2026-03-10"]
}  # fmt: skip
# conftest's clock starts on Monday 2 March 2026, 09:00 UTC; Friday 6 March, 16:00 in Berlin (UTC+1):
FRIDAY_AFTERNOON = datetime(2026, 3, 6, 15, 0, tzinfo=UTC)


async def save_calendar(automation: Automation, calendar: dict[str, Any], etag: str = '"0"') -> dict[str, Any]:
    response = await automation.http.put(
        "/v1/work-calendar", json=calendar, headers={**automation.headers(), "If-Match": etag}
    )
    assert response.status_code == 200, response.text
    saved: dict[str, Any] = response.json()
    return saved


def to(automation: Automation, instant: datetime) -> None:
    automation.advance((instant - automation.now).total_seconds())


async def on_stage(automation: Automation, stage: str = PROPOSAL) -> str:
    item_id: str = await automation.item("deal", client_name="Acme")
    await automation.move(item_id, "deal", PIPE, NEW, stage)
    await automation.visits_settled([item_id], stage)
    return item_id


class TestTheWorkCalendarResource:
    async def test_a_tenant_that_never_saved_one_reads_the_default_as_version_0(self, automation: Automation) -> None:
        response = await automation.http.get("/v1/work-calendar", headers=automation.headers("manager-1", ("manager",)))

        assert response.status_code == 200 and response.headers["ETag"] == '"0"'
        calendar = response.json()
        assert (calendar["time_zone"], calendar["working_days"], calendar["version"]) == (
            "UTC", ["mon", "tue", "wed", "thu", "fri"], 0
        )  # fmt: skip
        assert calendar["hours"] == [{"start": "09:00", "end": "18:00"}] and calendar["updated_at"] is None

    async def test_an_admin_changes_it_with_if_match_and_everyone_reads_the_change(
        self, automation: Automation
    ) -> None:
        saved = await save_calendar(automation, BERLIN_OFFICE)
        again = await save_calendar(automation, {**BERLIN_OFFICE, "holiday_country": "DE"}, etag='"1"')
        read = await automation.http.get("/v1/work-calendar", headers=automation.headers("manager-1", ("manager",)))

        assert (saved["version"], again["version"]) == (1, 2)
        assert read.headers["ETag"] == '"2"' and read.json()["holiday_country"] == "DE"
        assert read.json()["holidays"] == ["2026-03-10"] and read.json()["updated_at"].endswith("Z")
        events = await automation.fetch(
            "SELECT data->>'version' AS version FROM events WHERE type = $1 AND tenant_id = $2 ORDER BY position",
            SAVED, automation.tenant,
        )  # fmt: skip
        assert [e["version"] for e in events] == ["1", "2"]

    async def test_a_change_without_if_match_is_428_and_with_a_stale_one_412(self, automation: Automation) -> None:
        await save_calendar(automation, BERLIN_OFFICE)

        missing = await automation.http.put("/v1/work-calendar", json=BERLIN_OFFICE, headers=automation.headers())
        stale = await automation.http.put(
            "/v1/work-calendar", json=BERLIN_OFFICE, headers={**automation.headers(), "If-Match": '"0"'}
        )

        assert missing.status_code == 428
        assert stale.status_code == 412
        assert (stale.json()["expected_version"], stale.json()["current_version"]) == (0, 1)

    async def test_only_an_admin_may_change_it(self, automation: Automation) -> None:
        response = await automation.http.put(
            "/v1/work-calendar",
            json=BERLIN_OFFICE,
            headers={**automation.headers("manager-1", ("manager",)), "If-Match": '"0"'},
        )

        assert response.status_code == 403

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"time_zone": "Europe/Atlantis"}, "/body/time_zone"),
            ({"working_days": ["someday"]}, "/body/working_days/0"),
            ({"hours": [{"start": "18:00", "end": "09:00"}]}, "/body/hours/0"),
            ({"holiday_country": "XX"}, "/body"),
        ],
    )
    async def test_a_calendar_that_cannot_be_is_a_422_naming_what_is_wrong(
        self, automation: Automation, change: dict[str, Any], field: str
    ) -> None:
        response = await automation.http.put(
            "/v1/work-calendar", json={**BERLIN_OFFICE, **change}, headers={**automation.headers(), "If-Match": '"0"'}
        )

        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field


class TestRobotsInWorkingTime:
    async def test_three_working_hours_from_friday_afternoon_end_on_monday_morning(
        self, automation: Automation
    ) -> None:
        await save_calendar(automation, BERLIN_OFFICE)
        await automation.add_robot(
            pipeline_id=PIPE, stage_id=PROPOSAL, name="Call back",
            timing={"mode": "after_delay", "seconds": 3 * 3600, "working_time": True},
            action={"type": "notify", "recipients": [{"kind": "assignee"}], "body": "Call {{ item.client_name }}"},
        )  # fmt: skip
        to(automation, FRIDAY_AFTERNOON)

        item_id = await on_stage(automation)

        log = await automation.eventually(lambda: automation.log(item_id), lambda found: len(found["scheduled"]) == 1)
        assert log["scheduled"][0]["due_at"] == "2026-03-09T09:00:00Z"  # Monday 10:00 in Berlin
        to(automation, datetime(2026, 3, 9, 9, 0, tzinfo=UTC))
        sent = await automation.eventually(lambda: automation.commands(NOTIFY), lambda found: len(found) == 1)
        assert sent[0]["body"] == "Call Acme"

    async def test_an_at_once_robot_in_working_time_waits_for_the_next_opening(self, automation: Automation) -> None:
        await save_calendar(automation, BERLIN_OFFICE)
        await automation.add_robot(
            pipeline_id=PIPE, stage_id=PROPOSAL, name="Greet",
            timing={"mode": "at_once", "working_time": True},
            action={"type": "notify", "recipients": [{"kind": "assignee"}], "body": "Hello"},
        )  # fmt: skip
        to(automation, datetime(2026, 3, 7, 12, 0, tzinfo=UTC))  # a Saturday

        item_id = await on_stage(automation)

        log = await automation.eventually(lambda: automation.log(item_id), lambda found: len(found["scheduled"]) == 1)
        assert log["scheduled"][0]["due_at"] == "2026-03-09T08:00:00Z"  # Monday 09:00 in Berlin

    async def test_a_task_due_in_working_hours_skips_the_night_and_the_tenants_holiday(
        self, automation: Automation
    ) -> None:
        await save_calendar(automation, BERLIN_OFFICE)  # Tuesday 10 March is a holiday
        await automation.user("manager-1", "Olga Petrova")
        await automation.add_robot(
            pipeline_id=PIPE, stage_id=PROPOSAL, name="Call task",
            action={"type": "create_task", "title": "Call {{ item.client_name }}", "due_in_seconds": 4 * 3600,
                    "due_in_working_time": True},
        )  # fmt: skip
        to(automation, datetime(2026, 3, 9, 15, 0, tzinfo=UTC))  # Monday 16:00 in Berlin

        await on_stage(automation)

        tasks = await automation.eventually(
            lambda: automation.fetch("SELECT due_at FROM tasks WHERE tenant_id = $1", automation.tenant),
            lambda found: len(found) == 1,
        )
        assert tasks[0]["due_at"] == datetime(2026, 3, 11, 10, 0, tzinfo=UTC)  # Wednesday 11:00 in Berlin


FOLLOW_UP = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d"
    targetNamespace="https://conveyor.dev/bpmn">
  <bpmn:process id="follow_up" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:scriptTask id="plan" name="Plan the call" scriptFormat="python">
      <bpmn:script>call_at = next_working_time(now, "09:00")</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:intermediateCatchEvent id="morning" name="The next working morning">
      <bpmn:timerEventDefinition><bpmn:timeDate>call_at</bpmn:timeDate></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:intermediateCatchEvent id="later" name="Ten working hours later">
      <bpmn:timerEventDefinition><bpmn:timeDuration>in_working_time(hours(10))</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="call" name="Call the client">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="due_in_seconds" value="32400"/>
        <spiffworkflow:property name="due_in_working_time" value="true"/>
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="done"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="plan"/>
    <bpmn:sequenceFlow id="f2" sourceRef="plan" targetRef="morning"/>
    <bpmn:sequenceFlow id="f3" sourceRef="morning" targetRef="later"/>
    <bpmn:sequenceFlow id="f4" sourceRef="later" targetRef="call"/>
    <bpmn:sequenceFlow id="f5" sourceRef="call" targetRef="done"/>
  </bpmn:process>
</bpmn:definitions>"""


class TestProcessesInWorkingTime:
    async def test_a_timer_at_the_next_working_morning_then_ten_working_hours_then_a_task_due_in_working_time(
        self, automation: Automation
    ) -> None:
        await save_calendar(automation, BERLIN_OFFICE)  # Tuesday 10 March is a holiday
        await automation.user("manager-1", "Olga Petrova")
        template = await automation.http.post(
            "/v1/process-templates",
            json={"name": "Follow up", "entity_type_id": "company", "bpmn": FOLLOW_UP, "start": {"mode": "manual"}},
            headers=automation.headers(),
        )
        assert template.status_code == 201, template.text
        item_id = await automation.item("company", assignee="manager-1")
        await automation.eventually(lambda: automation.copy_of(item_id), lambda copy: copy is not None)
        to(automation, FRIDAY_AFTERNOON)

        started = await automation.http.post(
            "/v1/processes",
            json={"template_id": template.json()["id"], "item_id": item_id},
            headers=automation.headers(),
        )

        assert started.status_code == 201, started.text
        morning = [datetime(2026, 3, 9, 8, 0, 0, 1000, tzinfo=UTC)]
        assert await self.process_timers(automation) == morning
        to(automation, datetime(2026, 3, 9, 8, 0, 0, 2000, tzinfo=UTC))  # Monday 09:00 in Berlin
        # Nine hours on Monday, Tuesday is a holiday, the tenth is Wednesday 09:00-10:00 in Berlin.
        timers = await automation.eventually(lambda: self.process_timers(automation), lambda found: found != morning)
        assert timers == [datetime(2026, 3, 11, 9, 0, 0, 3000, tzinfo=UTC)]
        to(automation, datetime(2026, 3, 11, 9, 0, 0, 4000, tzinfo=UTC))
        tasks = await automation.eventually(
            lambda: automation.fetch("SELECT title, due_at FROM tasks WHERE tenant_id = $1", automation.tenant),
            lambda found: len(found) == 1,
        )
        # Nine working hours from Wednesday 10:00: the rest of Wednesday, then Thursday until 10:00.
        assert tasks[0]["title"] == "Call the client"
        assert tasks[0]["due_at"].replace(microsecond=0) == datetime(2026, 3, 12, 9, 0, tzinfo=UTC)

    @staticmethod
    async def process_timers(automation: Automation) -> list[datetime]:
        rows = await automation.fetch(
            "SELECT due_at FROM timers WHERE tenant_id = $1 AND kind = 'process' AND state = 'pending' ORDER BY due_at",
            automation.tenant,
        )
        return [row["due_at"] for row in rows]
