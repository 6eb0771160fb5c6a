"""Issue #20: what an upload finds is a 422 naming the element: the BPMN 2.0 schema (SpiffWorkflow's
validator), pre- and post-scripts checked like every script, and Camunda's extensions mapped or refused."""

from __future__ import annotations

from typing import Any
from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest
from automation.domain import processes as engine

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="https://conveyor.dev/bpmn">
  <bpmn:process id="checked" isExecutable="true">
    <bpmn:startEvent id="start"/>
    {task}
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve"/>
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>"""


def with_task(task: str) -> str:
    return HEAD.replace("{task}", task)


def user_task(attributes: str = "", extensions: str = "") -> str:
    inner = f"<bpmn:extensionElements>{extensions}</bpmn:extensionElements>" if extensions else ""
    return with_task(f'<bpmn:userTask id="approve" name="Approve the request" {attributes}>{inner}</bpmn:userTask>')


APPROVAL_FORM = (
    "<camunda:formData>"
    '<camunda:formField id="amount" label="Amount, EUR" type="long">'
    '<camunda:validation><camunda:constraint name="required"/></camunda:validation></camunda:formField>'
    '<camunda:formField id="approved" label="Approved?" type="boolean"/>'
    '<camunda:formField id="start_on" label="Start on" type="date"/>'
    "</camunda:formData>"
)


def waiting(bpmn: str) -> engine.UserStep:
    [step] = engine.waiting_user_steps(engine.start(engine.parse_template(bpmn), {}))
    return step


def refusal(bpmn: str) -> str:
    with pytest.raises(engine.InvalidTemplate) as refused:
        engine.check_upload(bpmn)
        engine.parse_template(bpmn)
    return str(refused.value)


@pytest.mark.unit
class TestCamundaExtensions:
    def test_an_assignee_and_a_form_become_the_inbox_tasks_person_and_fields(self) -> None:
        step = waiting(user_task('camunda:assignee="u-7"', APPROVAL_FORM))

        assert step.assignee == {"kind": "user", "id": "u-7"}
        assert [(f.code, f.kind, f.label, f.required) for f in step.form] == [
            ("amount", "number", "Amount, EUR", True),
            ("approved", "boolean", "Approved?", False),
            ("start_on", "datetime", "Start on", False),
        ]

    @pytest.mark.parametrize(
        ("attribute", "assignee"),
        [('camunda:candidateGroups="approvers"', {"kind": "role", "id": "approvers"}),
         ('camunda:candidateUsers="u-9"', {"kind": "user", "id": "u-9"})],
    )  # fmt: skip
    def test_one_candidate_group_is_a_role_task_and_one_candidate_user_a_task_for_them(
        self, attribute: str, assignee: dict[str, str]
    ) -> None:
        assert waiting(user_task(attribute)).assignee == assignee

    def test_spiffworkflow_properties_win_over_camunda(self) -> None:
        properties = (
            '<spiffworkflow:properties><spiffworkflow:property name="assignee" value="head_of_assignee"/>'
            "</spiffworkflow:properties>"
        )
        assert waiting(user_task('camunda:assignee="u-7"', properties)).assignee == {"kind": "head_of_assignee"}

    @pytest.mark.parametrize(
        ("attributes", "extensions", "named"),
        [
            ('camunda:assignee="${initiator}"', "", "camunda:assignee takes one user or group id"),
            ('camunda:candidateGroups="sales,support"', "", "camunda:candidateGroups takes one"),
            ('camunda:assignee="u-1" camunda:candidateGroups="sales"', "", "give one of camunda:assignee"),
            ("", '<camunda:formData><camunda:formField id="kind" type="enum"/></camunda:formData>', "type 'enum'"),
            ("", '<camunda:formData><camunda:formField id="firstName"/></camunda:formData>', "'firstName'"),
            (
                "",
                '<camunda:formData><camunda:formField id="x"><camunda:validation><camunda:constraint name="max"'
                ' config="3"/></camunda:validation></camunda:formField></camunda:formData>',
                "constraint max",
            ),
            ('camunda:formKey="embedded:app:forms/approve.html"', "", "camunda:formKey is not supported"),
            ("", '<camunda:taskListener event="create" class="org.Example"/>', "camunda:taskListener"),
        ],
    )
    def test_what_cannot_be_mapped_is_refused_naming_the_task(
        self, attributes: str, extensions: str, named: str
    ) -> None:
        message = refusal(user_task(attributes, extensions))

        assert message.startswith("userTask 'approve' (Approve the request): ")
        assert named in message

    def test_a_java_service_task_is_refused(self) -> None:
        bpmn = with_task('<bpmn:serviceTask id="approve" name="Charge" camunda:class="org.example.Charge"/>')
        assert refusal(bpmn) == "serviceTask 'approve' (Charge): camunda:class is not supported"

    def test_engine_hints_change_nothing_and_pass(self) -> None:
        assert waiting(user_task('camunda:asyncBefore="true" camunda:assignee="u-7"')).assignee["id"] == "u-7"


@pytest.mark.unit
class TestUploadChecks:
    def test_an_element_out_of_its_place_in_the_schema_is_named(self) -> None:
        misplaced = with_task(
            '<bpmn:intermediateCatchEvent id="approve" name="Wait"><bpmn:timerEventDefinition>'
            '<bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>'
            "<bpmn:incoming>f1</bpmn:incoming></bpmn:intermediateCatchEvent>"
        )
        message = refusal(misplaced)
        assert message.startswith("intermediateCatchEvent 'approve' (Wait): Element 'bpmn:incoming'")

    def test_a_duplicate_id_is_named(self) -> None:
        message = refusal(with_task('<bpmn:userTask id="approve"/><bpmn:task id="start"/>'))
        assert message == "task 'start': the id 'start' is used by another element too (ids are unique in a file)"

    @pytest.mark.parametrize("script", ["preScript", "postScript"])
    def test_pre_and_post_scripts_are_checked_like_every_script(self, script: str) -> None:
        bpmn = user_task(extensions=f"<spiffworkflow:{script}>x = __import__('os')</spiffworkflow:{script}>")
        message = refusal(bpmn)
        assert message.startswith("'approve' (Approve the request): ")

    @pytest.mark.parametrize(
        ("name", "value", "named"),
        [
            ("assignee", "boss:u-1", "assignee: 'boss:u-1' is no recipient"),
            ("form", "colour:paint:Colour", "kind"),
            ("due_in_seconds", "soon", "soon"),
        ],
    )
    def test_user_task_properties_that_make_no_inbox_task_are_refused(self, name: str, value: str, named: str) -> None:
        properties = (
            f'<spiffworkflow:properties><spiffworkflow:property name="{name}" value="{value}"/>'
            "</spiffworkflow:properties>"
        )
        message = refusal(user_task(extensions=properties))
        assert message.startswith("'approve' (Approve the request): spiffworkflow:properties refused: ")
        assert named in message

    def test_a_process_calling_itself_through_another_is_refused_naming_the_call(self) -> None:
        def calling(process: str, called: str) -> str:
            return (
                f'<bpmn:process id="{process}" isExecutable="true"><bpmn:startEvent id="{process}_start"/>'
                f'<bpmn:callActivity id="{process}_call" name="Call {called}" calledElement="{called}"/>'
                f'<bpmn:sequenceFlow id="{process}_f" sourceRef="{process}_start" targetRef="{process}_call"/>'
                "</bpmn:process>"
            )

        bpmn = (
            HEAD.split("<bpmn:process")[0] + calling("ping", "pong") + calling("pong", "ping") + "</bpmn:definitions>"
        )
        message = refusal(bpmn)
        assert (
            message == "'pong_call' (Call ping): calls 'ping' again (ping → pong → ping): a process cannot call itself"
        )


@pytest.mark.integration
class TestUploadRefusals:
    async def test_a_refused_upload_is_a_422_problem_naming_the_element(self, automation: Automation) -> None:
        body: dict[str, Any] = {
            "name": "Approval", "entity_type_id": "request",
            "bpmn": user_task(extensions="<spiffworkflow:preScript>x = __import__('os')</spiffworkflow:preScript>"),
        }  # fmt: skip
        response = await automation.http.post("/v1/process-templates", json=body, headers=automation.headers())

        assert response.status_code == 422
        assert response.headers["content-type"].startswith("application/problem+json")
        assert response.json()["detail"].startswith("'approve' (Approve the request): ")

        body["bpmn"] = user_task('camunda:assignee="${initiator}"')
        response = await automation.http.post("/v1/process-templates", json=body, headers=automation.headers())
        assert response.status_code == 422 and "userTask 'approve'" in response.json()["detail"]
