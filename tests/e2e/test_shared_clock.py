"""One clock for the services (conveyor_kit.shared_clock): a move through one service is the time of
every other, as under `make run ARGS=--test-clock`. A robot's delay in automation and the reminder of
the calendar entry it creates in notifications both come due with one move."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

SERVICES = ("entities", "pipelines", "automation", "notifications")
START = datetime(2031, 3, 3, 8, 0, tzinfo=UTC)
MOVED = START + timedelta(minutes=90)


class Story:
    """Four services on one clock file, an admin of a fresh tenant, and the manager who gets the reminder."""

    def __init__(self, services: dict[str, Any], settled: Any) -> None:
        self.services = services
        self.settled = settled
        self.tenant = f"clock-{uuid.uuid4().hex[:8]}"
        self.now = START

    def as_user(self, service: str, user: str, role: str) -> Any:
        client = self.services[service].as_user(self.tenant, user, role)
        client.at = self.now  # tokens are checked against the shared clock
        return client

    def admin(self, service: str) -> Any:
        return self.as_user(service, "admin-1", "admin")

    async def clock_of(self, service: str) -> datetime:
        running = self.services[service]
        response = await running.http.get(running.base_url + "/v1/test/clock")
        return datetime.fromisoformat(response.json()["now"])

    async def move_clock_through(self, service: str, instant: datetime) -> None:
        running = self.services[service]
        response = await running.http.post(running.base_url + "/v1/test/clock", json={"set_to": instant.isoformat()})
        assert response.status_code == 200 and response.json()["shared"] is True, response.text
        self.now = instant


async def a_deal_whose_robot_books_a_call(story: Story) -> str:
    """A deal type whose first stage has a robot: an hour after entry it books a call two hours after
    the start of the story, with a reminder an hour before; then one deal, on that stage."""
    entities, pipelines, automation = story.admin("entities"), story.admin("pipelines"), story.admin("automation")
    deal_type = await entities.ok("POST", "/v1/entity-types", {"code": "deal", "name": "Deal"})
    await entities.ok(
        "POST", "/v1/directory/users", {"id": "manager-1", "name": "Olga Petrova", "email": "olga@example.test"}
    )
    listed = await story.settled(
        lambda: pipelines.call("GET", "/v1/pipelines", params={"entity_type_id": deal_type["id"]}),
        lambda r: r.status_code == 200 and len(r.json()["items"]) == 1,
    )
    [pipeline] = listed.json()["items"]
    first_stage = pipeline["stages"][0]["id"]
    await automation.ok(
        "POST", "/v1/robots",
        {"pipeline_id": pipeline["id"], "stage_id": first_stage, "name": "Book the first call",
         "timing": {"mode": "after_delay", "seconds": 3600},
         "action": {"type": "create_calendar_entry", "kind": "call", "title": "First call: {{ item.title }}",
                    "start": (START + timedelta(hours=2)).isoformat(), "remind_minutes_before": 60}},
    )  # fmt: skip
    deal = await entities.ok(
        "POST", "/v1/items", {"entity_type_id": deal_type["id"], "title": "Дом-7", "assignee_id": "manager-1"}
    )
    return str(deal["id"])


class TestOneClockForEveryService:
    async def test_one_move_through_automation_fires_its_robot_delay_and_a_reminder_in_notifications(
        self, start_service: Callable[..., Any], settled: Any, tmp_path: Path
    ) -> None:
        clock_file = tmp_path / "test-clock.json"
        async with AsyncExitStack() as stack:
            services = {
                name: await stack.enter_async_context(start_service(name, test_clock_file=clock_file))
                for name in SERVICES
            }
            # Up to a minute: five services starting together on a loaded 2-core runner took longer than 15 s.
            settled = functools.partial(settled, within=60.0)
            story = Story(services, settled)
            await story.move_clock_through("entities", START)
            deal = await a_deal_whose_robot_books_a_call(story)
            log = await settled(
                lambda: story.admin("automation").call("GET", f"/v1/automation-log/{deal}"),
                lambda r: r.status_code == 200 and len(r.json()["scheduled"]) == 1,
            )
            assert log.json()["scheduled"][0]["due_at"].startswith("2031-03-03T09:00:00")

            await story.move_clock_through("automation", MOVED)

            runs = await settled(
                lambda: story.admin("automation").ok("GET", f"/v1/automation-log/{deal}"),
                lambda found: [run["status"] for run in found["runs"]] == ["succeeded"],
            )
            assert [run["status"] for run in runs["runs"]] == ["succeeded"]
            inbox = await settled(
                lambda: story.as_user("notifications", "manager-1", "manager").ok("GET", "/v1/notifications"),
                lambda found: len(found["items"]) == 1,
            )
            [reminder] = inbox["items"]
            assert reminder["kind"] == "reminder" and "Дом-7" in reminder["title"]
            assert [await story.clock_of(name) for name in SERVICES] == [MOVED] * len(SERVICES)
