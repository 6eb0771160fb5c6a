"""Recipients taken from the item (creator, observers, a user field, the head of any of them), addresses from
an e-mail field, and the kind a notice is sent with."""

from __future__ import annotations

import uuid
from typing import Any
from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest
from automation.domain.robots import Notify, Recipient, SendEmail, fields_read
from automation.domain.service_tasks import service_action
from conveyor_contracts import entities, pipelines
from pydantic import ValidationError

pytestmark = pytest.mark.integration

NOTIFY = "conveyor.notifications.notification_command.notify.v1"
EMAIL = "conveyor.notifications.email_command.send.v1"
PIPE, NEW, REVIEW = "pipe-requests", "st-new", "st-review"
FIELDS = {"approver": "user", "contact_email": "email", "note": "string"}


async def request_type(automation: Automation) -> None:
    """The request type with its fields and its pipeline, once automation's copy knows them all."""
    await automation.publish(
        pipelines.PipelineCreated(
            pipeline_id=PIPE, entity_type_id="request", name="Requests", sort=0, is_default=True, stages=[]
        ),
        subject=PIPE,
        source="/conveyor/pipelines",
    )
    for code, kind in FIELDS.items():
        field = entities.FieldDefinition(field_id=f"f-{code}", code=code, label=code, kind=kind)
        await automation.publish(entities.FieldAdded(entity_type_id="request", field=field), subject="request")
    await automation.eventually(
        lambda: automation.fetch(
            "SELECT f.code FROM automation_fields f JOIN automation_pipelines p USING (tenant_id, entity_type_id)"
            " WHERE f.tenant_id = $1 AND p.pipeline_id = $2",
            automation.tenant,
            PIPE,
        ),
        lambda rows: len(rows) == len(FIELDS),
    )


async def request_on_review(automation: Automation, **fields: Any) -> str:
    item_id = f"req-{uuid.uuid4().hex[:12]}"
    created = entities.ItemCreated(
        item_id=item_id, entity_type_id="request", title="New laptop", assignee_id="m-1", observer_ids=["obs-1"],
        created_by="requester-1", fields=fields,
    )  # fmt: skip
    await automation.publish(created, subject=item_id)
    await automation.eventually(lambda: automation.copy_of(item_id), lambda copy: copy and copy["created"])
    await automation.move(item_id, "request", PIPE, NEW, REVIEW)
    return item_id


async def refused(automation: Automation, action: dict[str, Any]) -> Any:
    return await automation.http.post(
        "/v1/robots",
        json={"pipeline_id": PIPE, "stage_id": REVIEW, "name": "Tell", "action": action},
        headers=automation.headers(),
    )


class TestRecipientsFromTheItem:
    async def test_creator_observers_a_user_field_and_its_head_are_notified_with_the_rules_kind(
        self, automation: Automation
    ) -> None:
        await request_type(automation)
        await automation.department("dep-it", head="boss-it")
        await automation.user("boss-it", "Ivan Head")
        await automation.user("approver-1", "Anna A", departments=("dep-it",))
        await automation.eventually(
            lambda: automation.fetch("SELECT * FROM directory_users WHERE tenant_id = $1", automation.tenant),
            lambda rows: len(rows) == 2,
        )
        await automation.add_robot(
            pipeline_id=PIPE, stage_id=REVIEW, name="Tell everyone",
            action={
                "type": "notify", "kind": "sla_breach", "body": "Still waiting",
                "recipients": ["creator", {"kind": "observers"}, "field:approver", "head_of:field:approver"],
            },
        )  # fmt: skip

        item_id = await request_on_review(automation, approver="approver-1")

        sent = await automation.eventually(lambda: automation.commands(NOTIFY), lambda found: len(found) == 1)
        assert sent[0]["recipient_ids"] == ["requester-1", "obs-1", "approver-1", "boss-it"]
        assert sent[0]["kind"] == "sla_breach"
        copy = await automation.copy_of(item_id)
        assert copy is not None and copy["creator_id"] == "requester-1"

    async def test_an_address_from_an_e_mail_field_is_sent_and_an_empty_one_fails_the_run_naming_the_field(
        self, automation: Automation
    ) -> None:
        await request_type(automation)
        await automation.add_robot(
            pipeline_id=PIPE, stage_id=REVIEW, name="Mail the client",
            action={
                "type": "send_email", "subject": "Your request", "body": "We have it.",
                "addresses": ["field:contact_email", "desk@example.test"],
            },
        )  # fmt: skip

        filled = await request_on_review(automation, contact_email="client@example.test")
        empty = await request_on_review(automation)

        sent = await automation.eventually(lambda: automation.commands(EMAIL), lambda found: len(found) == 1)
        assert sent[0]["to_addresses"] == ["client@example.test", "desk@example.test"]
        assert sent[0]["item"]["item_id"] == filled
        log = await automation.eventually(
            lambda: automation.log(empty), lambda log: [r["status"] for r in log["runs"]] == ["retrying"]
        )
        assert "contact_email" in log["runs"][0]["error"]


APPROVAL = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="https://conveyor.dev/bpmn">
  <bpmn:process id="approval" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="approve" name="Approve the request">
      <bpmn:extensionElements><spiffworkflow:properties>
        <spiffworkflow:property name="assignee" value="head_of:field:approver"/>
      </spiffworkflow:properties></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:endEvent id="done"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="approve"/>
    <bpmn:sequenceFlow id="f2" sourceRef="approve" targetRef="done"/>
  </bpmn:process>
</bpmn:definitions>"""


class TestRecipientsInProcesses:
    async def test_a_user_task_goes_to_the_head_of_the_user_in_a_field(self, automation: Automation) -> None:
        await request_type(automation)
        await automation.department("dep-it", head="boss-it")
        await automation.user("approver-1", "Anna A", departments=("dep-it",))
        await automation.eventually(
            lambda: automation.fetch("SELECT * FROM directory_users WHERE tenant_id = $1", automation.tenant),
            lambda rows: len(rows) == 1,
        )
        uploaded = await automation.http.post(
            "/v1/process-templates",
            json={"name": "Approval", "entity_type_id": "request", "bpmn": APPROVAL},
            headers=automation.headers(),
        )
        item_id = await request_on_review(automation, approver="approver-1")

        started = await automation.http.post(
            "/v1/processes", json={"template_id": uploaded.json()["id"], "item_id": item_id},
            headers=automation.headers(),
        )  # fmt: skip

        assert started.status_code == 201, started.text
        inbox = await automation.http.get("/v1/tasks/inbox", headers=automation.headers("boss-it", ()))
        assert [t["title"] for t in inbox.json()["items"]] == ["Approve the request"]


class TestRobotsSavedBeforeTheChecks:
    async def test_a_stored_robot_with_a_templated_address_still_reads_and_its_run_fails_naming_it(
        self, automation: Automation
    ) -> None:
        await request_type(automation)
        robot = await automation.add_robot(
            pipeline_id=PIPE, stage_id=REVIEW, name="Mail the client",
            action={"type": "send_email", "subject": "s", "body": "b", "addresses": ["desk@example.test"]},
        )  # fmt: skip
        await automation.fetch(  # as a robot saved before addresses were checked
            "UPDATE robots SET action = jsonb_set(action, '{addresses}', '[\"{{ item.contact_email }}@x\"]')"
            " WHERE tenant_id = $1 AND robot_id = $2 RETURNING robot_id",
            automation.tenant,
            robot["id"],
        )

        item_id = await request_on_review(automation, contact_email="client@example.test")

        read = await automation.http.get(f"/v1/robots/{robot['id']}", headers=automation.headers())
        assert read.status_code == 200 and read.json()["action"]["addresses"] == ["{{ item.contact_email }}@x"]
        log = await automation.eventually(
            lambda: automation.log(item_id), lambda log: [r["status"] for r in log["runs"]] == ["retrying"]
        )
        assert "is not an e-mail address" in log["runs"][0]["error"]


class TestFieldsAreCheckedWhenATemplateIsUploaded:
    @pytest.mark.parametrize(
        ("replaced", "by", "status", "named"),
        [
            ("head_of:field:approver", "field:note", 422, "approve: assignee: field:note must be a user field"),
            ("head_of:field:approver", "boss", 422, "assignee: 'boss' is no recipient"),
        ],
    )
    async def test_a_user_tasks_assignee_is_a_recipient_and_its_field_a_user_field(
        self, automation: Automation, replaced: str, by: str, status: int, named: str
    ) -> None:
        await request_type(automation)

        response = await automation.http.post(
            "/v1/process-templates",
            json={"name": "Approval", "entity_type_id": "request", "bpmn": APPROVAL.replace(replaced, by)},
            headers=automation.headers(),
        )

        assert response.status_code == status, response.text
        assert named in response.json()["detail"]

    async def test_a_service_tasks_address_field_must_be_an_e_mail_field(self, automation: Automation) -> None:
        await request_type(automation)
        mail = (
            '<bpmn:serviceTask id="mail" name="Mail"><bpmn:extensionElements>'
            '<spiffworkflow:serviceTaskOperator id="send_email"><spiffworkflow:parameters>'
            """<spiffworkflow:parameter id="addresses" type="str" value='"field:approver"'/>"""
            """<spiffworkflow:parameter id="subject" type="str" value='"Hello"'/>"""
            """<spiffworkflow:parameter id="body" type="str" value='"Hello"'/>"""
            "</spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements>"
            "</bpmn:serviceTask>"
        )
        bpmn = APPROVAL.replace('targetRef="approve"/>', 'targetRef="mail"/>').replace(
            "</bpmn:process>", f'{mail}<bpmn:sequenceFlow id="f3" sourceRef="mail" targetRef="approve"/></bpmn:process>'
        )

        response = await automation.http.post(
            "/v1/process-templates",
            json={"name": "Approval", "entity_type_id": "request", "bpmn": bpmn},
            headers=automation.headers(),
        )

        assert response.status_code == 422, response.text
        assert response.json()["field"] == "approver"
        assert response.json()["parameter"] == "mail: addresses"


class TestFieldsAreCheckedWhenARobotIsSaved:
    @pytest.mark.parametrize(
        ("action", "named"),
        [
            ({"type": "send_email", "subject": "s", "body": "b", "addresses": ["field:note"]}, "note"),
            ({"type": "send_email", "subject": "s", "body": "b", "addresses": ["field:nowhere"]}, "nowhere"),
            ({"type": "notify", "body": "b", "recipients": ["field:contact_email"]}, "contact_email"),
            ({"type": "create_task", "title": "t", "assignee": "head_of:field:note"}, "note"),
        ],
    )
    async def test_a_field_of_the_wrong_kind_or_not_on_the_type_is_a_422_naming_it(
        self, automation: Automation, action: dict[str, Any], named: str
    ) -> None:
        await request_type(automation)

        response = await refused(automation, action)

        assert response.status_code == 422, response.text
        assert response.json()["field"] == named
        assert named in response.json()["detail"]

    @pytest.mark.parametrize(
        ("address", "said"),
        [("{{ item.contact_email }}@x", "field:<code>"), ("client at example", "is not an e-mail address")],
    )
    async def test_an_address_that_is_none_is_refused_saying_what_to_write(
        self, automation: Automation, address: str, said: str
    ) -> None:
        response = await refused(
            automation, {"type": "send_email", "subject": "s", "body": "b", "addresses": [address]}
        )

        assert response.status_code == 422
        assert response.json()["type"].endswith("/invalid-address") and response.json()["address"] == address
        assert said in response.json()["detail"]


class TestRecipientSpecs:
    def test_text_and_objects_describe_the_same_recipients(self) -> None:
        assert Recipient.model_validate("head_of:head_of:user:u-1") == Recipient(
            kind="head_of", of=Recipient(kind="head_of", of=Recipient(kind="user", id="u-1"))
        )
        assert Recipient.model_validate("creator") == Recipient(kind="creator")

    @pytest.mark.parametrize("text", ["field", "head_of", "head_of:boss", "boss"])
    def test_an_incomplete_or_unknown_recipient_is_refused(self, text: str) -> None:
        with pytest.raises(ValidationError):
            Recipient.model_validate(text)

    def test_the_fields_an_action_reads_are_named_with_the_kind_they_need(self) -> None:
        email = SendEmail.model_validate(
            {"type": "send_email", "subject": "s", "body": "b", "recipients": ["head_of:field:approver"],
             "addresses": ["field:contact_email"]}
        )  # fmt: skip

        assert fields_read(email) == [("recipients", "approver", "user"), ("addresses", "contact_email", "email")]

    def test_a_notice_is_of_kind_robot_unless_the_rule_names_one(self) -> None:
        assert Notify.model_validate({"type": "notify", "body": "b", "recipients": ["creator"]}).kind == "robot"
        with pytest.raises(ValidationError):
            Notify.model_validate({"type": "notify", "body": "b", "recipients": ["creator"], "kind": "SLA breach!"})


class TestServiceTaskParameters:
    def test_a_service_tasks_recipients_kind_and_addresses_are_written_as_text(self) -> None:
        notify = service_action(
            "notify", {"recipients": "creator, head_of:field:approver", "kind": "sla_breach", "body": "Late"}
        )
        email = service_action(
            "send_email", {"addresses": "field:contact_email, desk@example.test", "subject": "s", "body": "b"}
        )

        assert isinstance(notify, Notify) and notify.kind == "sla_breach"
        assert notify.recipients == [
            Recipient(kind="creator"), Recipient(kind="head_of", of=Recipient(kind="field", id="approver"))
        ]  # fmt: skip
        assert isinstance(email, SendEmail) and email.addresses == ["field:contact_email", "desk@example.test"]
