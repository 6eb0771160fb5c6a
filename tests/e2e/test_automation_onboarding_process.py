"""Housing & utilities onboarding (seed 002), steps 3-6 through HTTP: the BPMN from docs/examples
started by a status change, driven through the automation inbox, its statuses landing on the
entities service's item."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

ONBOARDING = (Path(__file__).parents[2] / "docs" / "examples" / "onboarding.bpmn").read_text()
STATUSES = [
    "Imported", "In progress", "Meeting set", "Terms negotiation", "Contract negotiation", "Contract signing",
    "Launch preparation", "Launched", "Rejected",
]  # fmt: skip


class Onboarding:
    def __init__(self, services: dict[str, Any], settled: Any) -> None:
        self.services, self.settled = services, settled
        self.tenant = f"hou-{uuid.uuid4().hex[:8]}"
        self.automation_at: datetime | None = None  # the automation service's test clock, once moved

    def admin(self, service: str) -> Any:
        client = self.services[service].as_user(self.tenant, "admin-1", "admin")
        client.at = self.automation_at if service == "automation" else None
        return client

    def manager(self) -> Any:
        client = self.services["automation"].as_user(self.tenant, "manager-1")
        client.at = self.automation_at
        return client

    async def move_automation_clock(self, to: datetime) -> None:
        service = self.services["automation"]
        response = await service.http.post(service.base_url + "/v1/test/clock", json={"set_to": to.isoformat()})
        assert response.status_code == 200, response.text
        self.automation_at = to

    async def inbox(self) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = await self.manager().ok("GET", "/v1/tasks/inbox")
        return found

    async def answer(self, item_id: str, title: str, outcome: str, **values: Any) -> None:
        tasks = await self.settled(
            self.inbox, lambda found: any(t["item_id"] == item_id and t["title"] == title for t in found)
        )
        task = next(t for t in tasks if t["item_id"] == item_id and t["title"] == title)
        await self.manager().ok("POST", f"/v1/tasks/{task['task_id']}/complete", {"outcome": outcome, "values": values})

    async def status_of(self, item_id: str, option_ids: dict[str, str]) -> str:
        item = await self.admin("entities").ok("GET", f"/v1/items/{item_id}")
        labels = {v: k for k, v in option_ids.items()}
        return labels.get(item["fields"].get("status"), "?")

    async def status_becomes(self, item_id: str, status: str, option_ids: dict[str, str]) -> None:
        found = await self.settled(lambda: self.status_of(item_id, option_ids), lambda s: s == status, within=20)
        assert found == status


class TestOnboardingProcess:
    async def test_next_call_loops_then_every_step_to_launched_and_reject_ends_it(
        self, start_service: Callable[[str], Any], settled: Any
    ) -> None:
        async with AsyncExitStack() as stack:
            services = {
                name: await stack.enter_async_context(start_service(name))
                for name in ("entities", "pipelines", "automation")
            }
            story = Onboarding(services, settled)
            entities = story.admin("entities")
            industries = await entities.ok(
                "POST", "/v1/dictionaries",
                {"code": "industry", "name": "Industry",
                 "options": [{"label": "Housing & utilities"}, {"label": "Energy"}]},
            )  # fmt: skip
            company = await entities.ok("POST", "/v1/entity-types", {"code": "company", "name": "Company"})
            status_field = await entities.ok(
                "POST", f"/v1/entity-types/{company['id']}/fields",
                {"code": "status", "label": "Processing status", "kind": "list",
                 "options": [{"label": s} for s in STATUSES]},
            )  # fmt: skip
            option_ids = {o["label"]: o["id"] for o in status_field["options"]}
            await entities.ok(
                "POST", f"/v1/entity-types/{company['id']}/fields",
                {"code": "industry", "label": "Industry", "kind": "list", "dictionary_id": industries["id"]},
            )  # fmt: skip
            for code, label in [("next_call_at", "Next call at"), ("meeting_at", "Meeting at")]:
                await entities.ok(
                    "POST",
                    f"/v1/entity-types/{company['id']}/fields",
                    {"code": code, "label": label, "kind": "datetime"},
                )
            user = {"user_id": "manager-1", "name": "Olga Petrova", "email": "olga@example.test"}
            await entities.ok("POST", "/v1/directory/users", user)

            await story.admin("automation").ok(
                "POST", "/v1/process-templates",
                {"name": "Onboarding", "entity_type_id": company["id"], "bpmn": ONBOARDING,
                 "start": {"mode": "on_change", "condition": {"field": "status", "value": "In progress"}}},
            )  # fmt: skip
            ids = {}
            for name, industry in [
                ("Teplo", "Housing & utilities"),
                ("Vodokanal", "Housing & utilities"),
                ("Neft", "Energy"),
            ]:
                body = {"entity_type_id": company["id"], "title": name, "assignee_id": "manager-1",
                        "fields": {"status": "Imported", "industry": industry}}  # fmt: skip
                ids[name] = (await entities.ok("POST", "/v1/items", body))["id"]

            async def copies_ready() -> bool:
                for item_id in ids.values():
                    r = await story.admin("automation").call("GET", f"/v1/items/{item_id}/processes")
                    if r.status_code != 200:
                        return False
                return True

            await settled(copies_ready, bool)
            for item_id in ids.values():
                current = await entities.call("GET", f"/v1/items/{item_id}")
                await entities.ok(
                    "PATCH", f"/v1/items/{item_id}", {"fields": {"status": "In progress"}},
                    headers={"If-Match": current.headers["ETag"]},
                )  # fmt: skip

            # Another industry: the process ends at once.
            neft = await settled(
                lambda: story.admin("automation").ok("GET", f"/v1/items/{ids['Neft']}/processes"),
                lambda found: len(found) == 1 and found[0]["status"] == "completed",
            )
            assert neft[0]["status"] == "completed"

            # Next call: booked in the calendar; after the call's time the same question comes back.
            teplo = ids["Teplo"]
            await story.answer(teplo, "Was a meeting set?", "next_call", next_call_at="2026-12-01T10:00:00+00:00")
            assert [t for t in await story.inbox() if t["item_id"] == teplo] == []
            await story.move_automation_clock(datetime(2026, 12, 1, 10, 0, 1, tzinfo=UTC))
            log = await story.admin("automation").ok("GET", f"/v1/items/{teplo}/automation-log")
            booked = [r for r in log["runs"] if r["source_name"] == "action: create_calendar_entry"]
            assert [r["detail"]["title"] for r in booked] == ["Call Teplo"]

            # Meeting, then every step to the launch; each status lands on the entities' item.
            await story.answer(teplo, "Was a meeting set?", "meeting", meeting_at="2026-12-03T10:00:00+00:00")
            await story.status_becomes(teplo, "Meeting set", option_ids)

            # The process pauses until one hour before the meeting, then notifies the manager.
            assert [t for t in await story.inbox() if t["item_id"] == teplo] == []
            await story.move_automation_clock(datetime(2026, 12, 3, 8, 59, 59, tzinfo=UTC))
            log = await story.admin("automation").ok("GET", f"/v1/items/{teplo}/automation-log")
            assert [r for r in log["runs"] if r["source_name"] == "action: notify"] == []
            await story.move_automation_clock(datetime(2026, 12, 3, 9, 0, 1, tzinfo=UTC))
            await story.settled(
                story.inbox,
                lambda found: [t["title"] for t in found if t["item_id"] == teplo] == ["Was the meeting held?"],
            )
            log = await story.admin("automation").ok("GET", f"/v1/items/{teplo}/automation-log")
            reminded = [r for r in log["runs"] if r["source_name"] == "action: notify"]
            assert [(r["status"], r["detail"]) for r in reminded] == [
                ("succeeded", {"recipient_ids": ["manager-1"], "body": "Meeting Teplo at 2026-12-03T10:00:00+00:00"})
            ]
            for question, outcome, status in [
                ("Was the meeting held?", "held", "Terms negotiation"),
                ("Were the terms agreed?", "agreed", "Contract negotiation"),
                ("Was the contract signed?", "signed", "Launch preparation"),
                ("Was the client launched?", "launched", "Launched"),
            ]:
                await story.answer(teplo, question, outcome)
                await story.status_becomes(teplo, status, option_ids)
            finished = await story.admin("automation").ok("GET", f"/v1/items/{teplo}/processes")
            assert [p["status"] for p in finished] == ["completed"]

            # Reject at the first question ends the other company's process as "Rejected".
            vodokanal = ids["Vodokanal"]
            await story.answer(vodokanal, "Was a meeting set?", "reject")
            await story.status_becomes(vodokanal, "Rejected", option_ids)
            assert [t for t in await story.inbox() if t["item_id"] in ids.values()] == []
            timeline = await entities.ok("GET", f"/v1/items/{teplo}/timeline")
            actors = [(e["actor"]["kind"], e["event"]) for e in timeline["entries"]]
            assert actors[:2] == [("user", "created"), ("user", "changed")]
            assert actors[2:] == [("process", "changed")] * 5, actors
