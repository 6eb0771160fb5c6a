"""Issue #20: a robot whose recipients or e-mail addresses can never be valid is refused when saved (422
naming the field), checked against automation's copy of the type's fields; a field's address is read
when the robot runs."""

from __future__ import annotations

from typing import Any
from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest
from conveyor_contracts import entities, pipelines

SEND_EMAIL = "conveyor.notifications.email_command.send.v1"
PIPELINE = "pipe-leads"
STAGE = "st-new"


async def define_leads(automation: Automation) -> None:
    """The pipelines service opens a pipeline for leads; the entities service gives them three fields."""
    stage = pipelines.StageInfo(stage_id=STAGE, name="New", color="#fff", sort=0, semantic="in_progress")
    created = pipelines.PipelineCreated(
        pipeline_id=PIPELINE, entity_type_id="lead", name="Leads", sort=0, is_default=True, stages=[stage]
    )
    await automation.publish(created, subject=PIPELINE, source="/conveyor/pipelines")
    for code, kind in (("contact_email", "email"), ("notes", "text"), ("amount_due", "money")):
        field = entities.FieldDefinition(field_id=f"f-{code}", code=code, label=code, kind=kind)
        await automation.publish(entities.FieldAdded(entity_type_id="lead", field=field), subject="lead")
    await automation.eventually(
        lambda: automation.fetch(
            "SELECT f.code FROM automation_type_fields f JOIN automation_pipelines p USING (tenant_id, entity_type_id)"
            " WHERE f.tenant_id = $1 AND p.pipeline_id = $2",
            automation.tenant,
            PIPELINE,
        ),
        lambda rows: len(rows) == 3,
    )


def mail_robot(**action: Any) -> dict[str, Any]:
    return {
        "pipeline_id": PIPELINE, "stage_id": STAGE, "name": "Welcome",
        "action": {"type": "send_email", "subject": "Welcome", "body": "Hello", **action},
    }  # fmt: skip


@pytest.mark.integration
class TestRobotAddresses:
    @pytest.mark.parametrize(
        ("action", "field", "message"),
        [
            ({"addresses": ["{{ item.contact_mail }}"]}, "/action/addresses/0", "has no field 'contact_mail'"),
            (
                {"addresses": ["sales@example.test", "{{ item.amount_due }}"]},
                "/action/addresses/1",
                "'amount_due' is a money field, not an e-mail or text field",
            ),
            ({"addresses": ["sales"]}, "/action/addresses/0", "'sales' is not an e-mail address"),
            ({"addresses": ["{{ item.contact_email }}@x"]}, "/action/addresses/0", "{{ item.<field code> }}"),
            ({"recipients": [{"kind": "user"}]}, "/action/recipients/0/id", "a user recipient names its id"),
        ],
    )
    async def test_an_address_or_recipient_that_can_never_be_valid_is_refused_naming_the_field(
        self, automation: Automation, action: dict[str, Any], field: str, message: str
    ) -> None:
        await define_leads(automation)

        response = await automation.http.post("/v1/robots", json=mail_robot(**action), headers=automation.headers())

        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        [error] = response.json()["errors"]
        assert error["field"] == field and message in error["message"]

    async def test_an_address_from_an_email_or_text_field_is_saved_and_read_when_the_robot_runs(
        self, automation: Automation
    ) -> None:
        await define_leads(automation)
        await automation.add_robot(**mail_robot(addresses=["{{ item.contact_email }}", "{{ item.notes }}"]))

        item_id = await automation.item("lead", contact_email="anna@example.test")  # no notes: nobody there
        await automation.place(item_id, "lead", PIPELINE, STAGE)

        [sent] = await automation.eventually(lambda: automation.commands(SEND_EMAIL), lambda found: len(found) == 1)
        assert sent["to_addresses"] == ["anna@example.test"]

    async def test_a_field_holding_no_address_fails_the_run_naming_the_value(self, automation: Automation) -> None:
        await define_leads(automation)
        robot = await automation.add_robot(**mail_robot(addresses=["{{ item.notes }}"]))

        item_id = await automation.item("lead", notes="call back after lunch")
        await automation.place(item_id, "lead", PIPELINE, STAGE)

        async def runs() -> list[dict[str, Any]]:
            response = await automation.http.get(f"/v1/automation-log/{item_id}", headers=automation.headers())
            return response.json()["runs"] if response.status_code == 200 else []

        [run] = await automation.eventually(
            runs, lambda found: any(r["source_id"] == robot["id"] and r["status"] == "retrying" for r in found)
        )
        assert "'call back after lunch' is not an e-mail address" in run["error"]
        assert await automation.commands(SEND_EMAIL) == []
