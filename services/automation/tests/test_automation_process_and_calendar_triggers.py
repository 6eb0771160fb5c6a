"""The "process step" and "calendar entry held" triggers on the running service (real PostgreSQL and Kafka)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest
from conveyor_contracts import notifications

pytestmark = pytest.mark.integration

MOVE = "conveyor.pipelines.item_command.move.v1"
PIPE, NEW, MET, HELD = "pipe-onboarding", "st-new", "st-meeting", "st-held"
ONBOARDING = (Path(__file__).parents[3] / "docs" / "examples" / "onboarding.bpmn").read_text()


async def add_trigger(automation: Automation, **spec: Any) -> dict[str, Any]:
    response = await automation.http.post(
        "/v1/triggers", json={"pipeline_id": PIPE, **spec}, headers=automation.headers()
    )
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def on_new_stage(automation: Automation, **fields: Any) -> str:
    item_id: str = await automation.item("company", **fields)
    await automation.move(item_id, "company", PIPE, None, NEW)
    await automation.visits_settled([item_id], NEW)
    return item_id


async def moves(automation: Automation) -> list[tuple[str, str]]:
    return [(c["item_id"], c["to_stage_id"]) for c in await automation.commands(MOVE)]


class TestProcessStepTrigger:
    async def test_an_item_moves_when_its_process_reaches_the_step(self, automation: Automation) -> None:
        await automation.user("manager-1", "Olga O")
        response = await automation.http.post(
            "/v1/process-templates",
            json={"name": "Onboarding", "entity_type_id": "company", "bpmn": ONBOARDING, "start": {"mode": "manual"}},
            headers=automation.headers(),
        )
        template_id = response.json()["id"]
        by_id = await add_trigger(automation, stage_id=MET, name="Meeting set", kind="process_step", step="set_meeting")
        await add_trigger(
            automation, stage_id=HELD, name="Other template", kind="process_step", step="ask_meeting",
            template_id="another-template",
        )  # fmt: skip
        assert by_id["step"] == "set_meeting" and by_id["template_id"] is None
        item_id = await on_new_stage(automation, industry="Housing & utilities")

        started = await automation.http.post(
            "/v1/processes", json={"template_id": template_id, "item_id": item_id}, headers=automation.headers()
        )
        assert started.status_code == 201, started.text
        assert await moves(automation) == []  # "Was a meeting set?" is reached, but by another template's trigger
        [task] = await automation.eventually(
            lambda: _inbox(automation), lambda found: [t["title"] for t in found] == ["Was a meeting set?"]
        )
        completed = await automation.http.post(
            f"/v1/tasks/{task['id']}/complete",
            json={"outcome": "meeting", "values": {"meeting_at": "2026-03-09T10:00:00Z"}},
            headers=automation.headers("manager-1", ()),
        )
        assert completed.status_code == 200, completed.text

        assert await moves(automation) == [(item_id, MET)]
        log = await automation.log(item_id)
        assert [(r["source_kind"], r["source_name"]) for r in log["runs"] if r["source_kind"] == "trigger"] == [
            ("trigger", "Meeting set")
        ]

    async def test_a_process_step_trigger_needs_its_step(self, automation: Automation) -> None:
        response = await automation.http.post(
            "/v1/triggers",
            json={"pipeline_id": PIPE, "stage_id": MET, "name": "x", "kind": "process_step"},
            headers=automation.headers(),
        )
        assert response.status_code == 422


async def _inbox(automation: Automation) -> list[dict[str, Any]]:
    response = await automation.http.get("/v1/tasks/inbox", headers=automation.headers("manager-1", ()))
    found: list[dict[str, Any]] = response.json()["items"]
    return found


class TestCalendarEntryHeldTrigger:
    async def test_an_entry_that_ends_uncancelled_moves_its_item_once(self, automation: Automation) -> None:
        await add_trigger(
            automation, stage_id=HELD, name="Meeting held", kind="calendar_entry_held", entry_kind="meeting"
        )
        held, cancelled, call = [await on_new_stage(automation) for _ in range(3)]
        start = automation.now + timedelta(hours=1)

        async def entry(item_id: str, kind: str, end: timedelta, changed: bool = False) -> None:
            contract = notifications.CalendarEntryChanged if changed else notifications.CalendarEntryScheduled
            event = contract(
                entry_id=f"entry-{item_id}", title="Meeting", kind=kind, start=start, end=start + end,
                attendee_ids=["manager-1"], item=notifications.ItemRef(item_id=item_id, entity_type_id="company"),
            )  # fmt: skip
            await automation.publish(event, subject=f"entry-{item_id}", source="/conveyor/notifications")

        await entry(held, "meeting", timedelta(minutes=30))
        await entry(held, "meeting", timedelta(hours=2), changed=True)  # moved later before it ended
        await entry(cancelled, "meeting", timedelta(minutes=30))
        await automation.publish(
            notifications.CalendarEntryCancelled(entry_id=f"entry-{cancelled}"),
            subject=f"entry-{cancelled}", source="/conveyor/notifications",
        )  # fmt: skip
        await entry(call, "call", timedelta(minutes=30))

        async def copies() -> list[tuple[str, bool, Any]]:
            rows = await automation.fetch(
                "SELECT item_id, cancelled, end_at FROM automation_calendar_entries WHERE tenant_id = $1"
                " ORDER BY item_id",
                automation.tenant,
            )
            return [(r["item_id"], r["cancelled"], r["end_at"]) for r in rows]

        expected = sorted(
            [(held, False, start + timedelta(hours=2)), (cancelled, True, start + timedelta(minutes=30)),
             (call, False, start + timedelta(minutes=30))]
        )  # fmt: skip
        await automation.eventually(copies, lambda found: found == expected)

        automation.advance(3600 + 31 * 60)  # the first end has passed, but the entry was moved later
        await automation.eventually(lambda: automation.fetch(
            "SELECT 1 FROM timers WHERE kind = 'entry_held' AND tenant_id = $1 AND state = 'fired'", automation.tenant
        ), lambda found: len(found) == 1)  # fmt: skip
        assert await moves(automation) == []

        automation.advance(3600 + 30 * 60)  # past the new end
        assert await automation.eventually(lambda: moves(automation), lambda found: len(found) == 1) == [(held, HELD)]
        log = await automation.log(held)
        assert [(r["source_kind"], r["source_name"], r["status"]) for r in log["runs"]] == [
            ("trigger", "Meeting held", "succeeded")
        ]
        automation.advance(86400)
        assert await moves(automation) == [(held, HELD)]
