"""Issue #20: a process that fails at a step is a `failed` instance naming the step and the error, in the
API and the item's run log, and retryable from that step; the event that started it is applied all the same."""

from __future__ import annotations

import json
from typing import Any
from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest
from automation.domain import processes as engine

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d"
    targetNamespace="https://conveyor.dev/bpmn">
  <bpmn:process id="{process}_process" isExecutable="true">
    <bpmn:startEvent id="start"/>
{body}
  </bpmn:process>
</bpmn:definitions>"""


def bpmn(process: str, body: str, *flows: tuple[str, str]) -> str:
    """A process from ``start`` through ``body``'s elements along ``flows`` (source, target)."""
    lines = [body] + [
        f'<bpmn:sequenceFlow id="f{n}" sourceRef="{source}" targetRef="{target}"/>'
        for n, (source, target) in enumerate(flows)
    ]
    return HEAD.format(process=process, body="\n".join(lines))


SCORE_THEN_CALL = bpmn(
    "score_lead",
    '<bpmn:scriptTask id="score" name="Score the lead"><bpmn:script>score = item.employees * 2</bpmn:script>'
    '</bpmn:scriptTask><bpmn:userTask id="call" name="Call the lead"/><bpmn:endEvent id="end"/>',
    ("start", "score"),
    ("score", "call"),
    ("call", "end"),
)
GATEWAY_WITHOUT_A_TRUE_BRANCH = bpmn(
    "route",
    '<bpmn:exclusiveGateway id="route" name="Which team?"/><bpmn:endEvent id="sales"/><bpmn:endEvent id="support"/>'
    '<bpmn:sequenceFlow id="to_sales" sourceRef="route" targetRef="sales">'
    '<bpmn:conditionExpression>team == "sales"</bpmn:conditionExpression></bpmn:sequenceFlow>'
    '<bpmn:sequenceFlow id="to_support" sourceRef="route" targetRef="support">'
    '<bpmn:conditionExpression>team == "support"</bpmn:conditionExpression></bpmn:sequenceFlow>',
    ("start", "route"),
)
UNTIL_THE_MEETING = bpmn(
    "until_meeting",
    '<bpmn:intermediateCatchEvent id="wait" name="Until the meeting"><bpmn:timerEventDefinition>'
    "<bpmn:timeDate>item.meeting_at</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>"
    '<bpmn:endEvent id="met"/>',
    ("start", "wait"),
    ("wait", "met"),
)
PRE_SCRIPT_ON_AN_UNSET_VARIABLE = bpmn(
    "ask",
    '<bpmn:userTask id="ask" name="Ask the client"><bpmn:extensionElements>'
    "<spiffworkflow:preScript>budget = item.employees + 100</spiffworkflow:preScript>"
    '</bpmn:extensionElements></bpmn:userTask><bpmn:endEvent id="asked"/>',
    ("start", "ask"),
    ("ask", "asked"),
)
MAIL_TO_A_FIELD = bpmn(
    "mail",
    '<bpmn:serviceTask id="mail" name="Mail the contact"><bpmn:extensionElements>'
    '<spiffworkflow:serviceTaskOperator id="send_email"><spiffworkflow:parameters>'
    '<spiffworkflow:parameter id="addresses" type="list" value="[item.contact_email]"/>'
    '<spiffworkflow:parameter id="subject" type="str" value=\'"Welcome"\'/>'
    '<spiffworkflow:parameter id="body" type="str" value=\'"Hello"\'/>'
    "</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>"
    '<bpmn:endEvent id="mailed"/>',
    ("start", "mail"),
    ("mail", "mailed"),
)
MAIL_THEN_ASK = bpmn(
    "mail_then_ask",
    '<bpmn:serviceTask id="mail" name="Mail the contact"><bpmn:extensionElements>'
    '<spiffworkflow:serviceTaskOperator id="send_email"><spiffworkflow:parameters>'
    '<spiffworkflow:parameter id="addresses" type="list" value=\'["{{ item.contact }}"]\'/>'
    '<spiffworkflow:parameter id="subject" type="str" value=\'"Welcome"\'/>'
    '<spiffworkflow:parameter id="body" type="str" value=\'"Hello"\'/>'
    "</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>"
    '<bpmn:userTask id="ask" name="Did they answer?"/><bpmn:endEvent id="asked"/>',
    ("start", "mail"),
    ("mail", "ask"),
    ("ask", "asked"),
)
SEND_EMAIL = "conveyor.notifications.email_command.send.v1"


TWO_BRANCHES = bpmn(
    "two_branches",
    '<bpmn:parallelGateway id="split"/><bpmn:parallelGateway id="join"/><bpmn:endEvent id="done"/>'
    '<bpmn:scriptTask id="a" name="Branch A"><bpmn:script>x = needed_a + 1</bpmn:script></bpmn:scriptTask>'
    '<bpmn:scriptTask id="b" name="Branch B"><bpmn:script>y = needed_b + 1</bpmn:script></bpmn:scriptTask>',
    ("start", "split"),
    ("split", "a"),
    ("split", "b"),
    ("a", "join"),
    ("b", "join"),
    ("join", "done"),
)


@pytest.mark.unit
class TestTwoBranchesFailingApart:
    def test_a_step_still_in_error_after_another_is_retried_is_not_forgotten(self) -> None:
        workflow = engine.new_instance(engine.parse_template(TWO_BRANCHES), {})
        first = engine.attempt(workflow, workflow.do_engine_steps)
        second = engine.attempt(workflow, workflow.do_engine_steps)  # a later run of steps reaches the other branch
        assert first is not None and second is not None
        assert {first.step_id, second.step_id} == {"a", "b"}

        retried = engine.attempt(
            workflow, lambda: engine.retry_step(workflow, first.as_json(), {"needed_a": 1, "needed_b": 1})
        )

        left = engine.failed_step_left(workflow)
        assert retried is None and left is not None and left.step_id == second.step_id
        assert engine.attempt(workflow, lambda: engine.retry_step(workflow, left.as_json(), {})) is None
        assert workflow.is_completed()


async def upload(automation: Automation, source: str, start: dict[str, Any] | None = None) -> dict[str, Any]:
    response = await automation.http.post(
        "/v1/process-templates",
        json={"name": "Failing", "entity_type_id": "lead", "bpmn": source, "start": start or {"mode": "manual"}},
        headers=automation.headers(),
    )
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def start_by_hand(automation: Automation, source: str, **fields: Any) -> tuple[str, dict[str, Any]]:
    template = await upload(automation, source)
    item_id = await automation.item("lead", **fields)
    await automation.eventually(lambda: automation.copy_of(item_id), lambda copy: copy is not None)
    response = await automation.http.post(
        "/v1/processes", json={"template_id": template["id"], "item_id": item_id}, headers=automation.headers()
    )
    assert response.status_code == 201, response.text
    instance: dict[str, Any] = response.json()
    return item_id, instance


async def retry(automation: Automation, instance_id: str, **variables: Any) -> dict[str, Any]:
    response = await automation.http.post(
        f"/v1/processes/{instance_id}/retry", json={"variables": variables}, headers=automation.headers()
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def processes_of(automation: Automation, item_id: str) -> list[dict[str, Any]]:
    response = await automation.http.get("/v1/processes", params={"item_id": item_id}, headers=automation.headers())
    if response.status_code == 404:
        return []
    found: list[dict[str, Any]] = response.json()["items"]
    return found


def process_runs(log: dict[str, Any]) -> list[tuple[str, str]]:
    return [(r["source_name"], r["status"]) for r in log["runs"] if r["source_kind"] == "process"]


async def set_field(automation: Automation, item_id: str, code: str, value: Any) -> None:
    """The entities service sets the field; returns once automation's copy has it."""
    await automation.update(item_id, "lead", {f"fields.{code}": {"old": None, "new": value}})

    async def fields() -> dict[str, Any]:
        copy = await automation.copy_of(item_id)
        assert copy is not None
        found: dict[str, Any] = json.loads(copy["fields"]) if isinstance(copy["fields"], str) else copy["fields"]
        return found

    await automation.eventually(fields, lambda found: found.get(code) == value)


@pytest.mark.integration
class TestAProcessFailingAtAStep:
    async def test_an_on_create_process_failing_at_its_first_step_keeps_the_item_and_is_retried_once_fixed(
        self, automation: Automation
    ) -> None:
        await automation.user("manager-1", "Olga O")
        await upload(automation, SCORE_THEN_CALL, {"mode": "on_create"})

        item_id = await automation.item("lead")  # no employees: the score cannot be computed
        marker = await automation.item("lead", employees=5)  # published after it, on the same consumer

        [scored] = await automation.eventually(lambda: processes_of(automation, marker), lambda found: len(found) == 1)
        assert scored["status"] == "running"
        # The creation was applied, not dead-lettered: the copy is there and the failure recorded on it.
        assert await automation.copy_of(item_id) is not None
        [failed] = await processes_of(automation, item_id)
        assert failed["status"] == "failed"
        assert failed["failure"]["step_id"] == "score" and failed["failure"]["step_name"] == "Score the lead"
        assert "not a number" in failed["failure"]["error"]
        response = await automation.http.get(f"/v1/processes/{failed['id']}", headers=automation.headers())
        assert response.json()["failure"] == failed["failure"]
        log = await automation.log(item_id)
        assert process_runs(log) == [("started", "failed")]
        [run] = [r for r in log["runs"] if r["source_kind"] == "process"]
        assert run["detail"]["step_id"] == "score" and "not a number" in run["error"]

        await set_field(automation, item_id, "employees", 40)
        retried = await retry(automation, failed["id"])

        assert (retried["status"], retried["failure"]) == ("running", None)
        assert process_runs(await automation.log(item_id)) == [
            ("started", "failed"),
            ("retry: Score the lead", "succeeded"),
        ]
        inbox = await automation.http.get("/v1/tasks/inbox", headers=automation.headers("manager-1", ()))
        assert sorted(t["item_id"] for t in inbox.json()["items"]) == sorted([item_id, marker])
        again = await automation.http.post(f"/v1/processes/{failed['id']}/retry", headers=automation.headers())
        assert (again.status_code, again.json()["type"].rsplit("/", 1)[-1]) == (409, "process-not-failed")

    async def test_a_gateway_without_a_true_branch_fails_at_the_gateway_until_retried_with_the_variable(
        self, automation: Automation
    ) -> None:
        _, instance = await start_by_hand(automation, GATEWAY_WITHOUT_A_TRUE_BRANCH)

        assert instance["status"] == "failed"
        assert (instance["failure"]["step_id"], instance["failure"]["step_name"]) == ("route", "Which team?")
        assert "No conditions satisfied" in instance["failure"]["error"]
        as_user = await automation.http.post(
            f"/v1/processes/{instance['id']}/retry", headers=automation.headers("manager-1", ())
        )
        assert as_user.status_code == 403
        bad = await automation.http.post(
            f"/v1/processes/{instance['id']}/retry", json={"variables": {"__class__": 1}}, headers=automation.headers()
        )
        assert bad.status_code == 422

        retried = await retry(automation, instance["id"], team="support")

        assert (retried["status"], retried["failure"]) == ("completed", None)
        finished = await automation.commands("conveyor.automation.process.finished.v1")
        assert [f["end_event"] for f in finished] == ["support"]

    async def test_an_unset_timer_variable_fails_at_the_timer_and_waits_once_the_field_is_set(
        self, automation: Automation
    ) -> None:
        item_id, instance = await start_by_hand(automation, UNTIL_THE_MEETING)

        assert (instance["status"], instance["failure"]["step_id"]) == ("failed", "wait")
        await set_field(automation, item_id, "meeting_at", "2026-03-02T12:00:00Z")
        retried = await retry(automation, instance["id"])
        assert retried["status"] == "running"

        automation.advance(3 * 3600 + 1)
        [done] = await automation.eventually(
            lambda: processes_of(automation, item_id), lambda found: found[0]["status"] == "completed"
        )
        assert done["failure"] is None

    async def test_a_pre_script_on_an_unset_variable_fails_at_its_user_task(self, automation: Automation) -> None:
        await automation.user("manager-1", "Olga O")
        item_id, instance = await start_by_hand(automation, PRE_SCRIPT_ON_AN_UNSET_VARIABLE)

        assert (instance["status"], instance["failure"]["step_id"]) == ("failed", "ask")
        assert "not a number" in instance["failure"]["error"]
        inbox = await automation.http.get("/v1/tasks/inbox", headers=automation.headers("manager-1", ()))
        assert inbox.json()["items"] == []

        await set_field(automation, item_id, "employees", 900)
        assert (await retry(automation, instance["id"]))["status"] == "running"
        inbox = await automation.http.get("/v1/tasks/inbox", headers=automation.headers("manager-1", ()))
        assert [t["title"] for t in inbox.json()["items"]] == ["Ask the client"]

    async def test_a_service_task_whose_action_refuses_its_parameters_fails_there_and_sends_once_fixed(
        self, automation: Automation
    ) -> None:
        item_id, instance = await start_by_hand(automation, MAIL_TO_A_FIELD)

        assert (instance["status"], instance["failure"]["step_id"]) == ("failed", "mail")
        assert "send_email refused its parameters: addresses.0" in instance["failure"]["error"]
        assert await automation.commands(SEND_EMAIL) == []

        await set_field(automation, item_id, "contact_email", "anna@example.test")
        retried = await retry(automation, instance["id"])

        assert retried["status"] == "completed"
        [sent] = await automation.commands(SEND_EMAIL)
        assert sent["to_addresses"] == ["anna@example.test"]
        assert process_runs(await automation.log(item_id)) == [
            ("started", "failed"),
            ("action: send_email", "succeeded"),
            ("retry: Mail the contact", "succeeded"),
        ]

    async def test_an_action_that_fails_when_performed_fails_its_service_task_and_what_follows_waits(
        self, automation: Automation
    ) -> None:
        await automation.user("manager-1", "Olga O")
        item_id, instance = await start_by_hand(automation, MAIL_THEN_ASK, contact="call after lunch")

        assert (instance["status"], instance["failure"]["step_id"]) == ("failed", "mail")
        assert instance["failure"]["action"] == "send_email"
        assert "holds 'call after lunch', which is not an e-mail address" in instance["failure"]["error"]
        inbox = await automation.http.get("/v1/tasks/inbox", headers=automation.headers("manager-1", ()))
        assert inbox.json()["items"] == []  # the question after the mail waits for it

        await set_field(automation, item_id, "contact", "anna@example.test")
        retried = await retry(automation, instance["id"])

        assert (retried["status"], retried["failure"]) == ("running", None)
        [sent] = await automation.commands(SEND_EMAIL)
        assert sent["to_addresses"] == ["anna@example.test"]
        inbox = await automation.http.get("/v1/tasks/inbox", headers=automation.headers("manager-1", ()))
        assert [t["title"] for t in inbox.json()["items"]] == ["Did they answer?"]
