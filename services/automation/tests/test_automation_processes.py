"""Business processes: the onboarding BPMN (docs/examples) started on a status change, driven through the inbox."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest
from automation.domain import processes as engine
from automation.domain.process_start import StartRule
from pydantic import ValidationError

NOTIFY = "conveyor.notifications.notification_command.notify.v1"
ONBOARDING = (Path(__file__).parents[3] / "docs" / "examples" / "onboarding.bpmn").read_text()
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
    <bpmn:intermediateCatchEvent id="pause" name="Two hours later">
      <bpmn:timerEventDefinition><bpmn:timeDuration>"PT2H"</bpmn:timeDuration></bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:userTask id="follow_up" name="Follow up"/>
    <bpmn:endEvent id="escalated"/>
    <bpmn:endEvent id="done"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call"/>
    <bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="pause"/>
    <bpmn:sequenceFlow id="f3" sourceRef="pause" targetRef="follow_up"/>
    <bpmn:sequenceFlow id="f4" sourceRef="follow_up" targetRef="done"/>
    <bpmn:sequenceFlow id="f5" sourceRef="overdue" targetRef="escalate"/>
    <bpmn:sequenceFlow id="f6" sourceRef="escalate" targetRef="escalated"/>
  </bpmn:process>
</bpmn:definitions>"""
STARTS_ON_PROGRESS = {
    "mode": "on_change",
    "condition": {"field": "status", "op": "eq", "value": "In progress"},
}


class TestSafeScriptEngine:
    pytestmark = pytest.mark.unit

    @pytest.mark.parametrize(
        ("replaced", "attack"),
        [
            ('outcome == "meeting"', "__import__('os').system('id')"),
            ('outcome == "meeting"', "outcome.__class__.__mro__"),
            ('outcome == "meeting"', "open('/etc/passwd').read()"),
        ],
    )
    def test_a_gateway_condition_that_reaches_the_host_is_refused_on_upload(self, replaced: str, attack: str) -> None:
        with pytest.raises(engine.InvalidTemplate):
            engine.parse_template(ONBOARDING.replace(replaced, attack.replace('"', "&quot;")))

    def test_a_script_may_only_assign_safe_expressions(self) -> None:
        script = (
            '<bpmn:scriptTask id="s" name="Prepare"><bpmn:script>import os</bpmn:script></bpmn:scriptTask>'
            '<bpmn:sequenceFlow id="f_s" sourceRef="s" targetRef="is_housing"/></bpmn:process>'
        )
        bpmn = ONBOARDING.replace('sourceRef="start" targetRef="is_housing"', 'sourceRef="start" targetRef="s"')
        with pytest.raises(engine.InvalidTemplate, match="name = expression"):
            engine.parse_template(bpmn.replace("</bpmn:process>", script))


class TestStartRule:
    """Issue #5: start "when Processing status changes from Imported to In progress"."""

    pytestmark = pytest.mark.unit

    FROM_IMPORTED = StartRule.model_validate(
        STARTS_ON_PROGRESS | {"was": {"field": "status", "op": "eq", "value": "Imported"}}
    )

    @pytest.mark.parametrize(
        ("before", "after", "starts"),
        [
            ({"status": "Imported"}, {"status": "In progress"}, True),
            ({"status": "Rejected"}, {"status": "In progress"}, False),  # reopened: not a new onboarding
            ({"status": "In progress"}, {"status": "In progress"}, False),  # another field changed
            ({"status": "Imported"}, {"status": "Rejected"}, False),
            (None, {"status": "In progress"}, False),  # created: not a change
        ],
    )
    def test_was_names_the_value_the_change_comes_from(
        self, before: dict[str, Any] | None, after: dict[str, Any], starts: bool
    ) -> None:
        assert self.FROM_IMPORTED.fires(before, after) is starts

    def test_without_was_any_change_that_makes_the_condition_hold_starts(self) -> None:
        rule = StartRule.model_validate(STARTS_ON_PROGRESS)
        assert rule.fires({"status": "Rejected"}, {"status": "In progress"})
        assert not rule.fires({"status": "In progress"}, {"status": "In progress"})

    def test_on_create_and_manual(self) -> None:
        created = StartRule.model_validate({"mode": "on_create", "condition": STARTS_ON_PROGRESS["condition"]})
        assert created.fires(None, {"status": "In progress"})
        assert not created.fires(None, {"status": "Imported"})
        assert not created.fires({"status": "Imported"}, {"status": "In progress"})
        assert not StartRule().fires(None, {"status": "In progress"})

    def test_was_belongs_to_a_change_only(self) -> None:
        with pytest.raises(ValidationError, match="only an on_change start"):
            StartRule.model_validate({"mode": "on_create", "was": {"field": "status", "op": "eq", "value": "x"}})


async def upload(automation: Automation, bpmn: str = ONBOARDING) -> dict[str, Any]:
    response = await automation.http.post(
        "/v1/process-templates",
        json={"name": "Onboarding", "entity_type_id": "company", "bpmn": bpmn, "start": STARTS_ON_PROGRESS},
        headers=automation.headers(),
    )
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def inbox(automation: Automation, user: str = "manager-1") -> list[dict[str, Any]]:
    response = await automation.http.get("/v1/tasks/inbox", headers=automation.headers(user, ()))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


async def answer(automation: Automation, task: dict[str, Any], outcome: str, **values: Any) -> None:
    response = await automation.http.post(
        f"/v1/tasks/{task['id']}/complete",
        json={"outcome": outcome, "values": values},
        headers=automation.headers("manager-1", ()),
    )
    assert response.status_code == 200, response.text


async def processes_if_known(automation: Automation, item_id: str) -> list[dict[str, Any]] | None:
    """The item's processes; None while automation does not know the item yet (a 404)."""
    response = await automation.http.get("/v1/processes", params={"item_id": item_id}, headers=automation.headers())
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    assert response.json()["next_cursor"] is None
    found: list[dict[str, Any]] = response.json()["items"]
    return found


async def processes(automation: Automation, item_id: str) -> list[dict[str, Any]]:
    found = await processes_if_known(automation, item_id)
    assert found is not None, f"automation does not know item {item_id}"
    return found


@pytest.mark.integration
class TestOnboardingProcess:
    async def test_it_starts_when_the_status_becomes_in_progress_and_loops_until_a_meeting_then_rejects(
        self, automation: Automation
    ) -> None:
        await automation.user("manager-1", "Olga O")
        template = await upload(automation)
        item_id = await automation.item(
            "company", assignee="manager-1", status="Imported", industry="Housing & utilities"
        )
        await automation.eventually(lambda: automation.copy_of(item_id), lambda copy: copy is not None)
        assert await processes(automation, item_id) == []

        await automation.update(item_id, "company", {"fields.status": {"old": "Imported", "new": "In progress"}})
        tasks = await automation.eventually(lambda: inbox(automation), lambda found: len(found) == 1)
        assert tasks[0]["title"] == "Was a meeting set?"
        assert [o["id"] for o in tasks[0]["outcomes"]] == ["next_call", "meeting", "reject"]

        await answer(automation, tasks[0], "next_call", next_call_at="2026-03-03T10:00:00Z")
        assert await inbox(automation) == []  # until the call's time
        automation.advance(25 * 3600 + 0.001)
        again = await automation.eventually(lambda: inbox(automation), lambda found: len(found) == 1)
        assert [t["title"] for t in again] == ["Was a meeting set?"] and again[0]["id"] != tasks[0]["id"]
        await answer(automation, again[0], "meeting", meeting_at="2026-03-05T10:00:00Z")
        assert await inbox(automation) == []  # paused until an hour before the meeting
        assert await automation.commands(NOTIFY) == []
        hour_before = datetime(2026, 3, 5, 9, tzinfo=UTC)
        automation.advance((hour_before - automation.now).total_seconds() - 1)
        assert await inbox(automation) == [] and await automation.commands(NOTIFY) == []
        automation.advance(2)
        held = await automation.eventually(lambda: inbox(automation), lambda found: len(found) == 1)
        assert [t["title"] for t in held] == ["Was the meeting held?"]
        [reminder] = await automation.commands(NOTIFY)
        assert (reminder["recipient_ids"], reminder["title"]) == (["manager-1"], "Meeting in an hour")
        assert reminder["body"] == f"Meeting Deal {item_id[-4:]} at 2026-03-05T10:00:00Z"
        await answer(automation, held[0], "reject")

        assert await inbox(automation) == []
        [instance] = await processes(automation, item_id)
        assert (instance["status"], instance["template_version"]) == ("completed", template["version"])
        finished = await automation.commands("conveyor.automation.process.finished.v1")
        assert [f["end_event"] for f in finished] == ["rejected_ask_held"]
        log = await automation.log(item_id)
        assert [(r["source_name"], r["status"]) for r in log["runs"] if r["source_kind"] == "process"] == [
            ("started", "succeeded"),
            ("action: set_fields", "succeeded"),  # "Next call at"
            ("action: create_calendar_entry", "succeeded"),
            ("Was a meeting set?: next_call", "succeeded"),
            ("timer: Until the call", "succeeded"),
            ("action: set_fields", "succeeded"),
            ("action: create_calendar_entry", "succeeded"),
            ("Was a meeting set?: meeting", "succeeded"),
            ("action: notify", "succeeded"),
            ("timer: Until an hour before the meeting", "succeeded"),
            ("action: set_fields", "succeeded"),
            ("Was the meeting held?: reject", "succeeded"),
        ]
        entries = await automation.commands("conveyor.notifications.calendar_command.create_entry.v1")
        assert [(e["title"], e["start"], e["attendee_ids"], e["reminders"]) for e in entries] == [
            (f"Call Deal {item_id[-4:]}", "2026-03-03T10:00:00Z", ["manager-1"], [{"minutes_before": 15, "at": None}]),
            (
                f"Meeting Deal {item_id[-4:]}",
                "2026-03-05T10:00:00Z",
                ["manager-1"],
                [{"minutes_before": 60, "at": None}],
            ),
        ]
        statuses = await automation.commands("conveyor.entities.item_command.update_fields.v1")
        assert [(c["item_id"], c["changes"]) for c in statuses] == [
            (item_id, {"fields": {"next_call_at": "2026-03-03T10:00:00Z"}}),
            (item_id, {"fields": {"status": "Meeting set", "meeting_at": "2026-03-05T10:00:00Z"}}),
            (item_id, {"fields": {"status": "Rejected"}}),
        ]

    async def test_a_company_of_another_industry_ends_at_once(self, automation: Automation) -> None:
        await upload(automation)
        item_id = await automation.item("company", status="Imported", industry="Energy")
        await automation.update(item_id, "company", {"fields.status": {"old": "Imported", "new": "In progress"}})

        found = await automation.eventually(
            lambda: processes_if_known(automation, item_id), lambda p: p is not None and len(p) == 1
        )
        assert found[0]["status"] == "completed"
        finished = await automation.commands("conveyor.automation.process.finished.v1")
        assert [f["end_event"] for f in finished] == ["not_housing"]

    async def test_a_version_beyond_the_integer_column_is_a_422_not_a_500(self, automation: Automation) -> None:
        # Found by schemathesis (tests/security): ?version=5921178247555162095151480832 was a 500.
        template = await upload(automation)

        for path in ("", "/bpmn"):
            response = await automation.http.get(
                f"/v1/process-templates/{template['id']}{path}",
                params={"version": str(2**31)},
                headers=automation.headers(),
            )
            assert response.status_code == 422
            assert response.json()["errors"][0]["field"] == "/query/version"

    async def test_a_running_instance_keeps_its_template_version_and_the_bpmn_exports_as_uploaded(
        self, automation: Automation
    ) -> None:
        await automation.user("manager-1", "Olga O")
        template = await upload(automation)
        item_id = await automation.item("company", status="Imported", industry="Housing & utilities")
        await automation.update(item_id, "company", {"fields.status": {"old": "Imported", "new": "In progress"}})
        await automation.eventually(lambda: inbox(automation), lambda found: len(found) == 1)

        changed = ONBOARDING.replace("Was the meeting held?", "Did the meeting take place?")
        response = await automation.http.put(
            f"/v1/process-templates/{template['id']}",
            json={"name": "Onboarding", "entity_type_id": "company", "bpmn": changed, "start": STARTS_ON_PROGRESS},
            headers={**automation.headers(), "If-Match": '"1"'},
        )
        assert response.json()["version"] == 2
        await answer(automation, (await inbox(automation))[0], "meeting", meeting_at="2026-03-02T12:00:00Z")
        automation.advance(2 * 3600 + 1)  # past an hour before the meeting

        held = await automation.eventually(lambda: inbox(automation), lambda found: len(found) == 1)
        assert [t["title"] for t in held] == ["Was the meeting held?"]
        [instance] = await processes(automation, item_id)
        assert (instance["template_version"], instance["started_at"]) == (1, "2026-03-02T09:00:00Z")
        assert template["created_at"] == "2026-03-02T09:00:00Z"
        exported = await automation.http.get(
            f"/v1/process-templates/{template['id']}/bpmn", params={"version": 1}, headers=automation.headers()
        )
        assert exported.headers["content-type"].startswith("application/xml") and exported.text == ONBOARDING

    async def test_a_template_with_an_unsafe_expression_is_refused(self, automation: Automation) -> None:
        response = await automation.http.post(
            "/v1/process-templates",
            json={
                "name": "Bad",
                "entity_type_id": "company",
                "bpmn": ONBOARDING.replace('outcome == "held"', "x.__class__"),
            },
            headers=automation.headers(),
        )
        assert response.status_code == 422
        assert "not allowed" in response.json()["detail"]


@pytest.mark.integration
class TestProcessTimers:
    async def test_a_boundary_timer_escalates_an_overdue_task_and_a_pause_waits_for_the_clock(
        self, automation: Automation
    ) -> None:
        await automation.user("manager-1", "Olga O")
        await automation.user("head-1", "Irina H")
        response = await automation.http.post(
            "/v1/process-templates",
            json={"name": "Escalation", "entity_type_id": "company", "bpmn": ESCALATION, "start": {"mode": "manual"}},
            headers=automation.headers(),
        )
        assert response.status_code == 201, response.text
        template_id = response.json()["id"]
        first = await automation.item("company", assignee="manager-1")
        second = await automation.item("company", assignee="manager-1")
        await automation.eventually(lambda: automation.copy_of(second), lambda copy: copy is not None)
        for item_id in (first, second):
            started = await automation.http.post(
                "/v1/processes", json={"template_id": template_id, "item_id": item_id}, headers=automation.headers()
            )
            assert started.status_code == 201, started.text
        calls = await inbox(automation)
        assert [t["title"] for t in calls] == ["Call the client", "Call the client"]
        await answer(automation, next(t for t in calls if t["item_id"] == second), "done")

        automation.advance(3599)
        assert await inbox(automation, "head-1") == []
        automation.advance(1.001)  # SpiffWorkflow fires a timer strictly after its instant

        escalated = await automation.eventually(lambda: inbox(automation, "head-1"), lambda found: len(found) == 1)
        assert (escalated[0]["title"], escalated[0]["item_id"]) == ("The call did not happen", first)
        assert await inbox(automation) == []  # the overdue call left the manager's inbox

        automation.advance(3600)  # two hours after the second company's call
        follow = await automation.eventually(lambda: inbox(automation), lambda found: len(found) == 1)
        assert (follow[0]["title"], follow[0]["item_id"]) == ("Follow up", second)


@pytest.mark.integration
class TestStartProcessAction:
    async def test_a_robot_starts_a_process_when_the_item_enters_its_stage(self, automation: Automation) -> None:
        await automation.user("manager-1", "Olga O")
        response = await automation.http.post(
            "/v1/process-templates",
            json={"name": "Onboarding", "entity_type_id": "company", "bpmn": ONBOARDING, "start": {"mode": "manual"}},
            headers=automation.headers(),
        )
        template = response.json()
        await automation.add_robot(
            pipeline_id="pipe-1", stage_id="st-onboarding", name="Start onboarding",
            action={"type": "start_process", "template_id": template["id"]},
        )  # fmt: skip
        item_id = await automation.item("company", assignee="manager-1", industry="Housing & utilities")
        await automation.move(item_id, "company", "pipe-1", None, "st-onboarding")

        tasks = await automation.eventually(lambda: inbox(automation), lambda found: len(found) == 1)
        assert (tasks[0]["item_id"], tasks[0]["title"]) == (item_id, "Was a meeting set?")
        [instance] = await processes(automation, item_id)
        assert instance["template_version"] == 1


def _defs(body: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d"'
        f' targetNamespace="https://conveyor.dev/bpmn">{body}</bpmn:definitions>'
    )


def _flow(fid: str, src: str, dst: str, condition: str | None = None) -> str:
    body = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition else ""
    return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{dst}">{body}</bpmn:sequenceFlow>'


CHECK = _defs(
    '<bpmn:process id="check_documents" isExecutable="true"><bpmn:startEvent id="cs"/>'
    '<bpmn:serviceTask id="checking" name="Status: Checking"><bpmn:extensionElements>'
    '<spiffworkflow:serviceTaskOperator id="set_fields"><spiffworkflow:parameters>'
    "<spiffworkflow:parameter id=\"status\" type=\"str\" value='\"Checking\"'/>"
    "</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>"
    '<bpmn:userTask id="verify" name="Verify the documents"/>'
    '<bpmn:scriptTask id="mark" name="Mark"><bpmn:script>verified = outcome == "done"</bpmn:script></bpmn:scriptTask>'
    '<bpmn:endEvent id="ce"/>'
    + _flow("c1", "cs", "checking") + _flow("c2", "checking", "verify") + _flow("c3", "verify", "mark")
    + _flow("c4", "mark", "ce") + "</bpmn:process>"
)  # fmt: skip
CONTRACT = _defs(
    '<bpmn:process id="contract" isExecutable="true"><bpmn:startEvent id="s"/>'
    '<bpmn:callActivity id="call" name="Check the documents" calledElement="check_documents"/>'
    '<bpmn:exclusiveGateway id="gw" default="no"/><bpmn:userTask id="sign" name="Sign the contract"/>'
    '<bpmn:endEvent id="signed"/><bpmn:endEvent id="refused"/>'
    + _flow("f1", "s", "call") + _flow("f2", "call", "gw") + _flow("yes", "gw", "sign", "verified")
    + _flow("no", "gw", "refused") + _flow("f3", "sign", "signed") + "</bpmn:process>"
)  # fmt: skip


class TestCallActivity:
    async def test_a_process_calls_another_template_through_the_inbox_and_goes_on_with_its_result(
        self, automation: Automation
    ) -> None:
        await automation.user("manager-1", "Olga O")

        async def save(name: str, bpmn: str) -> Any:
            return await automation.http.post(
                "/v1/process-templates",
                json={"name": name, "entity_type_id": "company", "bpmn": bpmn, "start": {"mode": "manual"}},
                headers=automation.headers(),
            )

        too_early = await save("Contract", CONTRACT)
        assert too_early.status_code == 422 and "check_documents" in too_early.json()["detail"]
        assert (await save("Check documents", CHECK)).status_code == 201
        contract = await save("Contract", CONTRACT)
        assert contract.status_code == 201, contract.text
        item_id = await automation.item("company", assignee="manager-1", status="Imported")
        await automation.eventually(lambda: automation.copy_of(item_id), lambda copy: copy is not None)

        started = await automation.http.post(
            "/v1/processes",
            json={"template_id": contract.json()["id"], "item_id": item_id},
            headers=automation.headers(),
        )
        assert started.status_code == 201, started.text
        [verify] = await inbox(automation)
        assert (verify["title"], verify["item_id"]) == ("Verify the documents", item_id)
        await answer(automation, verify, "done")
        [sign] = await inbox(automation)
        assert sign["title"] == "Sign the contract"
        await answer(automation, sign, "done")

        [instance] = await processes(automation, item_id)
        assert instance["status"] == "completed"
        finished = await automation.commands("conveyor.automation.process.finished.v1")
        assert [f["end_event"] for f in finished] == ["signed"]
        statuses = await automation.commands("conveyor.entities.item_command.update_fields.v1")
        assert [c["changes"] for c in statuses] == [{"fields": {"status": "Checking"}}]


class TestTemplateVersions:
    async def test_a_new_version_names_the_version_it_was_edited_from(self, automation: Automation) -> None:
        template = await upload(automation)
        path = f"/v1/process-templates/{template['id']}"
        body = {"name": "Onboarding", "entity_type_id": "company", "bpmn": ONBOARDING}

        read = await automation.http.get(path, headers=automation.headers())
        unnamed = await automation.http.put(path, json=body, headers=automation.headers())
        second = await automation.http.put(
            path, json=body, headers={**automation.headers(), "If-Match": read.headers["ETag"]}
        )
        concurrent = await automation.http.put(path, json=body, headers={**automation.headers(), "If-Match": '"1"'})

        assert read.headers["ETag"] == '"1"'
        assert unnamed.status_code == 428 and unnamed.json()["type"].endswith("/precondition-required")
        assert (second.status_code, second.headers["ETag"], second.json()["version"]) == (200, '"2"', 2)
        assert concurrent.status_code == 412 and concurrent.json()["type"].endswith("/version-mismatch")
        assert (await automation.http.get(path, headers=automation.headers())).json()["version"] == 2


class TestTemplateList:
    async def test_templates_are_listed_newest_version_each_by_page_and_by_type(self, automation: Automation) -> None:
        async def save(name: str, entity_type_id: str, template_id: str | None = None) -> dict[str, Any]:
            body = {"name": name, "entity_type_id": entity_type_id, "bpmn": ONBOARDING}
            path = f"/v1/process-templates/{template_id}" if template_id else "/v1/process-templates"
            response = await (automation.http.put if template_id else automation.http.post)(
                path, json=body, headers={**automation.headers(), "If-Match": "1"}
            )
            assert response.status_code in (200, 201), response.text
            saved: dict[str, Any] = response.json()
            return saved

        await automation.entity_type("company", code="client")
        await automation.entity_type("deal")
        first = await save("Onboarding", "company")
        await save("Onboarding, second version", "company", first["id"])
        await save("Contract", "company")
        await save("Deal review", "deal")

        async def page(**params: Any) -> Any:
            return await automation.http.get("/v1/process-templates", params=params, headers=automation.headers())

        one = (await page(limit=2)).json()
        two = (await page(limit=2, cursor=one["next_cursor"])).json()
        listed = one["items"] + two["items"]
        assert len(one["items"]) == 2 and two["next_cursor"] is None
        assert sorted(t["name"] for t in listed) == ["Contract", "Deal review", "Onboarding, second version"]
        assert next(t for t in listed if t["id"] == first["id"])["version"] == 2
        assert "bpmn" not in listed[0]
        deals = (await page(entity_type_id="deal")).json()
        assert [t["name"] for t in deals["items"]] == ["Deal review"] and deals["next_cursor"] is None
        by_code = (await page(entity_type_id="client")).json()["items"]
        assert [t["name"] for t in by_code] == [
            t["name"] for t in (await page(entity_type_id="company")).json()["items"]
        ]
        assert sorted(t["name"] for t in by_code) == ["Contract", "Onboarding, second version"]
        unknown = await page(entity_type_id="no-such-type")
        assert unknown.status_code == 404 and unknown.json()["type"].endswith("/unknown-entity-type")
        refused = await page(cursor="not-ours")
        assert refused.status_code == 422 and refused.json()["type"].endswith("/invalid-cursor")
