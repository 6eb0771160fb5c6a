"""Issue #20: a robot's (or a service task's) e-mail or webhook call is delivered later, by the
notifications service; its outcome (EmailSent/EmailFailed, WebhookDelivered/WebhookFailed, whose
``source`` is the run's id) is recorded on the run in ``detail.delivery``, and one not delivered
fails the run, visibly in the automation log. Here the test plays the notifications service."""

from __future__ import annotations

import json
from typing import Any
from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest
from conveyor_contracts import notifications, pipelines

PIPELINE = "pipe-leads"
STAGE = "st-new"
NOTIFICATIONS = "/conveyor/notifications"
RUN_RECORDED = "conveyor.automation.run.recorded.v1"


async def define_leads(automation: Automation) -> None:
    stage = pipelines.StageInfo(stage_id=STAGE, name="New", color="#fff", sort=0, semantic="in_progress")
    created = pipelines.PipelineCreated(
        pipeline_id=PIPELINE, entity_type_id="lead", name="Leads", sort=0, is_default=True, stages=[stage]
    )
    await automation.publish(created, subject=PIPELINE, source="/conveyor/pipelines")
    await automation.eventually(
        lambda: automation.fetch(
            "SELECT 1 FROM automation_pipelines WHERE tenant_id = $1 AND pipeline_id = $2", automation.tenant, PIPELINE
        ),
        lambda rows: len(rows) == 1,
    )


async def sent_by_a_robot(automation: Automation, action: dict[str, Any]) -> dict[str, Any]:
    """A robot on the stage acts at once on a placed lead; its run, once it succeeded in sending."""
    await define_leads(automation)
    robot = await automation.add_robot(pipeline_id=PIPELINE, stage_id=STAGE, name="Tell", action=action)
    return await run_on_a_new_lead(automation, robot)


async def run_on_a_new_lead(automation: Automation, robot: dict[str, Any]) -> dict[str, Any]:
    item_id = await automation.item("lead")
    await automation.place(item_id, "lead", PIPELINE, STAGE)
    [run] = await automation.eventually(
        lambda: runs_of(automation, item_id),
        lambda found: [r for r in found if r["source_id"] == robot["id"] and r["status"] == "succeeded"],
    )
    assert run["detail"]["delivery"] == {"status": "pending"}
    return dict(run)


async def runs_of(automation: Automation, item_id: str) -> list[dict[str, Any]]:
    response = await automation.http.get(f"/v1/automation-log/{item_id}", headers=automation.headers())
    runs: list[dict[str, Any]] = response.json()["runs"] if response.status_code == 200 else []  # 404: not copied yet
    return runs


async def run_when(automation: Automation, run: dict[str, Any], delivery: str) -> dict[str, Any]:
    """The run, once its delivery is ``delivery``."""

    async def this_run() -> dict[str, Any]:
        [found] = [r for r in await runs_of(automation, run["item_id"]) if r["id"] == run["id"]]
        return found

    found: dict[str, Any] = await automation.eventually(
        this_run, lambda r: r["detail"]["delivery"]["status"] == delivery
    )
    return found


async def outcomes_published(automation: Automation, run_id: str) -> list[dict[str, Any]]:
    rows = await automation.fetch(
        "SELECT data::text AS data FROM events WHERE tenant_id = $1 AND type = $2 AND stream_id = $3 ORDER BY position",
        automation.tenant, RUN_RECORDED, f"run-{run_id}",
    )  # fmt: skip
    return [json.loads(row["data"]) for row in rows]


def email_failed(source: str, error: str = "550 mailbox unavailable") -> notifications.EmailFailed:
    return notifications.EmailFailed(
        email_id=f"mail-{source}", to=["anna@example.test"], subject="Welcome", error=error, source=source
    )


MAIL = {"type": "send_email", "addresses": ["anna@example.test"], "subject": "Welcome", "body": "Hello"}
WEBHOOK = {"type": "call_webhook", "url": "https://hooks.example.test/leads"}


@pytest.mark.integration
class TestDeliveries:
    async def test_an_email_that_fails_fails_its_run_with_the_error(self, automation: Automation) -> None:
        run = await sent_by_a_robot(automation, MAIL)

        failed = email_failed(run["id"])
        envelope = await automation.publish(failed, subject=failed.email_id, source=NOTIFICATIONS)

        after = await run_when(automation, run, "failed")
        assert after["status"] == "failed"
        assert after["error"] == "e-mail not delivered: 550 mailbox unavailable"
        assert after["detail"]["delivery"]["error"] == "550 mailbox unavailable"
        assert after["detail"]["subject"] == "Welcome"  # what the run did is kept
        # The changed outcome is an event of the run, like its first.
        published = await outcomes_published(automation, run["id"])
        assert [(e["outcome"], e["detail"]) for e in published][-1] == ("failed", after["error"])

        # Retrying it by hand would send nothing (the same command key): refused, naming why.
        retried = await automation.http.post(
            f"/v1/automation-log/{run['item_id']}/runs/{run['id']}/retry", headers=automation.headers()
        )
        assert retried.status_code == 409, retried.text
        assert "not delivered" in retried.json()["detail"]

        # A replayed event, or another word on the same mail, changes nothing: the run awaits no delivery now.
        # Read before the marker, the next run's delivery (same subject: same partition).
        other = await run_on_a_new_lead(automation, {"id": run["source_id"]})
        await automation.redeliver(envelope, failed.topic())
        late = notifications.EmailSent(email_id=failed.email_id, to=failed.to, subject="Welcome", source=run["id"])
        await automation.publish(late, subject=failed.email_id, source=NOTIFICATIONS)
        marker = notifications.EmailSent(email_id="mail-2", to=failed.to, subject="Welcome", source=other["id"])
        await automation.publish(marker, subject=failed.email_id, source=NOTIFICATIONS)
        await run_when(automation, other, "delivered")
        [again] = [r for r in await runs_of(automation, run["item_id"]) if r["id"] == run["id"]]
        assert again == after
        assert await outcomes_published(automation, run["id"]) == published

    async def test_an_email_that_was_sent_is_delivered_and_its_run_still_succeeded(
        self, automation: Automation
    ) -> None:
        run = await sent_by_a_robot(automation, MAIL)

        sent = notifications.EmailSent(email_id="mail-1", to=["anna@example.test"], subject="Welcome", source=run["id"])
        await automation.publish(sent, subject=sent.email_id, source=NOTIFICATIONS)

        after = await run_when(automation, run, "delivered")
        assert after["status"] == "succeeded" and after["error"] is None
        assert after["detail"]["delivery"]["at"] and after["detail"]["delivery"]["error"] is None

    async def test_a_webhook_call_given_up_fails_its_run(self, automation: Automation) -> None:
        run = await sent_by_a_robot(automation, WEBHOOK)

        failed = notifications.WebhookFailed(
            delivery_id="d-1", subscription_id=None, url=WEBHOOK["url"], attempts=8, error="HTTP 503", source=run["id"]
        )
        await automation.publish(failed, subject=failed.delivery_id, source=NOTIFICATIONS)

        after = await run_when(automation, run, "failed")
        assert after["status"] == "failed"
        assert after["error"] == "webhook not delivered: HTTP 503"

    async def test_an_email_automation_did_not_send_is_ignored(self, automation: Automation) -> None:
        run = await sent_by_a_robot(automation, MAIL)

        # Someone else's mail, then (same subject: same partition, so read after it) the robot's own.
        await automation.publish(email_failed("not-a-run-of-ours"), subject="mail-x", source=NOTIFICATIONS)
        sent = notifications.EmailSent(email_id="mail-x", to=["anna@example.test"], subject="Welcome", source=run["id"])
        await automation.publish(sent, subject="mail-x", source=NOTIFICATIONS)

        after = await run_when(automation, run, "delivered")
        assert after["status"] == "succeeded"
        assert await outcomes_published(automation, "not-a-run-of-ours") == []
        failed = await automation.fetch(
            "SELECT run_id FROM automation_runs WHERE tenant_id = $1 AND status = 'failed'", automation.tenant
        )
        assert failed == []


CALL_A_WEBHOOK = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d"
    targetNamespace="https://conveyor.dev/bpmn">
  <bpmn:process id="tell_process" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:serviceTask id="tell" name="Tell the CRM"><bpmn:extensionElements>
      <spiffworkflow:serviceTaskOperator id="call_webhook"><spiffworkflow:parameters>
        <spiffworkflow:parameter id="url" type="str" value='"https://hooks.example.test/crm"'/>
      </spiffworkflow:parameters></spiffworkflow:serviceTaskOperator></bpmn:extensionElements></bpmn:serviceTask>
    <bpmn:endEvent id="told"/>
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="tell"/>
    <bpmn:sequenceFlow id="f1" sourceRef="tell" targetRef="told"/>
  </bpmn:process>
</bpmn:definitions>"""


@pytest.mark.integration
class TestAServiceTasksDelivery:
    async def test_a_webhook_call_of_a_service_task_given_up_fails_its_run_in_the_items_log(
        self, automation: Automation
    ) -> None:
        uploaded = await automation.http.post(
            "/v1/process-templates",
            json={"name": "Tell", "entity_type_id": "lead", "bpmn": CALL_A_WEBHOOK, "start": {"mode": "manual"}},
            headers=automation.headers(),
        )
        assert uploaded.status_code == 201, uploaded.text
        item_id = await automation.item("lead")
        await automation.eventually(lambda: automation.copy_of(item_id), lambda copy: copy is not None)
        started = await automation.http.post(
            "/v1/processes",
            json={"template_id": uploaded.json()["id"], "item_id": item_id},
            headers=automation.headers(),
        )
        assert started.status_code == 201, started.text
        [run] = [r for r in await runs_of(automation, item_id) if r["source_name"] == "action: call_webhook"]
        assert (run["status"], run["detail"]["delivery"]) == ("succeeded", {"status": "pending"})

        failed = notifications.WebhookFailed(
            delivery_id="d-2", subscription_id=None, url="https://hooks.example.test/crm", attempts=8,
            error="connection refused", source=run["id"],
        )  # fmt: skip
        await automation.publish(failed, subject=failed.delivery_id, source=NOTIFICATIONS)

        after = await run_when(automation, run, "failed")
        assert (after["status"], after["error"]) == ("failed", "webhook not delivered: connection refused")
        assert after["source_id"] == started.json()["id"]  # the instance's own log entry
