"""Process templates disabled, enabled and deleted: nothing new starts, running instances go on."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest

pytestmark = pytest.mark.integration

ONBOARDING = (Path(__file__).parents[3] / "docs" / "examples" / "onboarding.bpmn").read_text()
STARTS_ON_PROGRESS = {"mode": "on_change", "condition": {"field": "status", "op": "eq", "value": "In progress"}}


async def upload(automation: Automation) -> dict[str, Any]:
    response = await automation.http.post(
        "/v1/process-templates",
        json={"name": "Onboarding", "entity_type_id": "company", "bpmn": ONBOARDING, "start": STARTS_ON_PROGRESS},
        headers=automation.headers(),
    )
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def inbox(automation: Automation) -> list[dict[str, Any]]:
    response = await automation.http.get("/v1/tasks/inbox", headers=automation.headers("manager-1", ()))
    found: list[dict[str, Any]] = response.json()["items"]
    return found


async def processes(automation: Automation, item_id: str) -> list[dict[str, Any]]:
    response = await automation.http.get("/v1/processes", params={"item_id": item_id}, headers=automation.headers())
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


async def set_state(automation: Automation, template: dict[str, Any], verb: str, etag: str | None = '"1"') -> Any:
    path = f"/v1/process-templates/{template['id']}"
    headers = {**automation.headers(), **({"If-Match": etag} if etag else {})}
    if verb == "delete":
        return await automation.http.delete(path, headers=headers)
    return await automation.http.post(f"{path}/{verb}", headers=headers)


async def start_by_hand(automation: Automation, template: dict[str, Any], item_id: str) -> Any:
    return await automation.http.post(
        "/v1/processes", json={"template_id": template["id"], "item_id": item_id}, headers=automation.headers()
    )


class TestDisabledTemplates:
    async def test_disabling_needs_the_templates_version_and_an_admin(self, automation: Automation) -> None:
        template = await upload(automation)

        unnamed = await set_state(automation, template, "disable", etag=None)
        stale = await set_state(automation, template, "disable", etag='"2"')
        by_a_manager = await automation.http.post(
            f"/v1/process-templates/{template['id']}/disable",
            headers={**automation.headers("manager-1", ("manager",)), "If-Match": '"1"'},
        )

        assert unnamed.status_code == 428
        assert stale.status_code == 412 and stale.json()["type"].endswith("/version-mismatch")
        assert by_a_manager.status_code == 403
        read = await automation.http.get(f"/v1/process-templates/{template['id']}", headers=automation.headers())
        assert read.json()["status"] == "enabled"

    async def test_a_disabled_template_starts_nothing_by_hand_or_by_its_rule_and_runs_on_when_enabled(
        self, automation: Automation
    ) -> None:
        await automation.user("manager-1", "Olga O")
        disabled, marker = await upload(automation), await upload(automation)
        item_id = await automation.item("company", status="Imported", industry="Energy")
        await automation.eventually(lambda: automation.copy_of(item_id), lambda copy: copy is not None)

        response = await set_state(automation, disabled, "disable")
        by_hand = await start_by_hand(automation, disabled, item_id)
        # Both templates start on the change; the marker's instance shows the change was handled.
        await automation.update(item_id, "company", {"fields.status": {"old": "Imported", "new": "In progress"}})
        started = await automation.eventually(lambda: processes(automation, item_id), lambda found: len(found) == 1)

        assert (response.status_code, response.json()["status"], response.headers["ETag"]) == (200, "disabled", '"1"')
        assert by_hand.status_code == 409 and by_hand.json()["type"].endswith("/template-not-startable")
        assert "disabled" in by_hand.json()["detail"]
        assert [p["template_id"] for p in started] == [marker["id"]]
        listed = (await automation.http.get("/v1/process-templates", headers=automation.headers())).json()["items"]
        assert {t["id"]: t["status"] for t in listed} == {disabled["id"]: "disabled", marker["id"]: "enabled"}

        enabled = await set_state(automation, disabled, "enable")
        again = await start_by_hand(automation, disabled, item_id)
        assert enabled.json()["status"] == "enabled" and again.status_code == 201, again.text

    async def test_a_running_instance_goes_on_after_its_template_is_disabled(self, automation: Automation) -> None:
        await automation.user("manager-1", "Olga O")
        template = await upload(automation)
        item_id = await automation.item("company", status="Imported", industry="Housing & utilities")
        await automation.update(item_id, "company", {"fields.status": {"old": "Imported", "new": "In progress"}})
        [task] = await automation.eventually(lambda: inbox(automation), lambda found: len(found) == 1)

        await set_state(automation, template, "disable")
        completed = await automation.http.post(
            f"/v1/tasks/{task['id']}/complete", json={"outcome": "reject", "values": {}},
            headers=automation.headers("manager-1", ()),
        )  # fmt: skip

        assert completed.status_code == 200, completed.text

        [instance] = await processes(automation, item_id)
        assert instance["status"] == "completed"

    async def test_a_new_version_of_a_disabled_template_stays_disabled(self, automation: Automation) -> None:
        template = await upload(automation)
        await set_state(automation, template, "disable")

        response = await automation.http.put(
            f"/v1/process-templates/{template['id']}",
            json={"name": "Onboarding 2", "entity_type_id": "company", "bpmn": ONBOARDING, "start": STARTS_ON_PROGRESS},
            headers={**automation.headers(), "If-Match": '"1"'},
        )

        assert (response.json()["version"], response.json()["status"]) == (2, "disabled")


class TestDeletedTemplates:
    async def test_a_deleted_template_is_gone_from_the_api_and_starts_nothing(self, automation: Automation) -> None:
        template = await upload(automation)
        item_id = await automation.item("company", status="Imported", industry="Energy")
        await automation.eventually(lambda: automation.copy_of(item_id), lambda copy: copy is not None)

        deleted = await set_state(automation, template, "delete")
        read = await automation.http.get(f"/v1/process-templates/{template['id']}", headers=automation.headers())
        listed = await automation.http.get("/v1/process-templates", headers=automation.headers())
        by_hand = await start_by_hand(automation, template, item_id)
        again = await set_state(automation, template, "delete")

        assert deleted.status_code == 204
        assert read.status_code == 404
        assert template["id"] not in [t["id"] for t in listed.json()["items"]]
        assert by_hand.status_code == 409 and "deleted" in by_hand.json()["detail"]
        assert again.status_code == 404
        events = await automation.fetch(
            "SELECT type FROM events WHERE tenant_id = $1 AND stream_id = $2",
            automation.tenant,
            f"process-template-status-{template['id']}",
        )
        assert [e["type"] for e in events] == ["conveyor.automation.process_template.deleted.v1"]
