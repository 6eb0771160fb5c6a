"""Issue #20: a robot whose recipients or e-mail addresses can never be valid is refused when saved (422
naming the field), checked against automation's copy of the type's fields; a field's address is read
when the robot runs. `{{ item.<code> }}` is how users write an address from a field in templates: it is
taken as `field:<code>` (test_automation_recipients.py has the rest of the field rules)."""

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
            "SELECT f.code FROM automation_fields f JOIN automation_pipelines p USING (tenant_id, entity_type_id)"
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
        ("action", "problem", "named", "message"),
        [
            ({"addresses": ["{{ item.contact_mail }}"]}, "invalid-field-reference", "contact_mail", "not a field"),
            (
                {"addresses": ["sales@example.test", "{{ item.amount_due }}"]},
                "invalid-field-reference",
                "amount_due",
                "'amount_due' is a money field",
            ),
            ({"addresses": ["sales"]}, "invalid-address", "sales", "'sales' is not an e-mail address"),
            ({"addresses": ["{{ item.contact_email }}@x"]}, "invalid-address", "{{ item.contact_email }}@x", "field:"),
        ],
    )
    async def test_an_address_that_can_never_be_valid_is_refused_naming_it(
        self, automation: Automation, action: dict[str, Any], problem: str, named: str, message: str
    ) -> None:
        await define_leads(automation)

        response = await automation.http.post("/v1/robots", json=mail_robot(**action), headers=automation.headers())

        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        body = response.json()
        assert body["type"].endswith(f"/{problem}")
        assert named in (body.get("field"), body.get("address")) and message in body["detail"]

    async def test_a_user_recipient_without_its_id_is_refused_naming_the_pointer(self, automation: Automation) -> None:
        await define_leads(automation)
        robot = mail_robot(recipients=[{"kind": "user"}])

        response = await automation.http.post("/v1/robots", json=robot, headers=automation.headers())

        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        assert error["field"] == "/action/recipients/0/id" and "a user recipient names its id" in error["message"]

    async def test_an_address_written_as_a_template_is_stored_as_its_field_and_read_when_the_robot_runs(
        self, automation: Automation
    ) -> None:
        await define_leads(automation)
        robot = await automation.add_robot(**mail_robot(addresses=["{{ item.contact_email }}"]))
        assert robot["action"]["addresses"] == ["field:contact_email"]

        item_id = await automation.item("lead", contact_email="anna@example.test")
        await automation.place(item_id, "lead", PIPELINE, STAGE)

        [sent] = await automation.eventually(lambda: automation.commands(SEND_EMAIL), lambda found: len(found) == 1)
        assert sent["to_addresses"] == ["anna@example.test"]

    async def test_a_field_holding_no_address_fails_the_run_naming_the_value(self, automation: Automation) -> None:
        await define_leads(automation)
        robot = await automation.add_robot(**mail_robot(addresses=["{{ item.contact_email }}"]))

        item_id = await automation.item("lead", contact_email="call back after lunch")
        await automation.place(item_id, "lead", PIPELINE, STAGE)

        async def runs() -> list[dict[str, Any]]:
            response = await automation.http.get(f"/v1/automation-log/{item_id}", headers=automation.headers())
            return response.json()["runs"] if response.status_code == 200 else []

        [run] = await automation.eventually(
            runs, lambda found: any(r["source_id"] == robot["id"] and r["status"] == "retrying" for r in found)
        )
        assert "holds 'call back after lunch', which is not an e-mail address" in run["error"]
        assert await automation.commands(SEND_EMAIL) == []
