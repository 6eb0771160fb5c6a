"""A robot's task through HTTP across four services: entities, pipelines, automation and notifications.

A deal enters "Contact"; its robot opens "Contact within 10 minutes" for the deal's manager, who is told
in the notifications inbox (automation's task event, read by notifications). The manager hands it to a
colleague, who is told in turn. The deal then moves on to "Qualified", and the task closes as cancelled:
it no longer waits in anyone's inbox to turn overdue."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AsyncExitStack
from typing import Any

import pytest

pytestmark = pytest.mark.e2e


class Story:
    def __init__(self, services: dict[str, Any], settled: Any) -> None:
        self.services = services
        self.settled = settled
        self.tenant = f"tasks-{uuid.uuid4().hex[:8]}"

    def as_user(self, service: str, user: str = "admin-1", *roles: str) -> Any:
        return self.services[service].as_user(self.tenant, user, *(roles or (("admin",) if user == "admin-1" else ())))

    async def notices(self, user: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (await self.as_user("notifications", user).ok("GET", "/v1/notifications"))[
            "items"
        ]
        return found

    async def inbox(self, user: str) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = (await self.as_user("automation", user).ok("GET", "/v1/tasks/inbox"))["items"]
        return found


async def set_up(story: Story) -> tuple[str, dict[str, str]]:
    entities, pipelines = story.as_user("entities"), story.as_user("pipelines")
    deal_type = await entities.ok("POST", "/v1/entity-types", {"code": "deal", "name": "Deal"})
    await entities.ok("POST", "/v1/directory/departments", {"id": "sales", "name": "Sales"})
    for user_id, name in [("manager-1", "Olga Petrova"), ("manager-2", "Pavel Ivanov")]:
        body = {"id": user_id, "name": name, "email": f"{user_id}@example.test", "department_ids": ["sales"]}
        await entities.ok("POST", "/v1/directory/users", body)

    async def default_pipelines() -> list[dict[str, Any]]:  # a 404 until pipelines hears of the type
        response = await pipelines.call("GET", "/v1/pipelines", params={"entity_type_id": deal_type["id"]})
        return list(response.json()["items"]) if response.status_code == 200 else []

    (pipeline,) = await story.settled(default_pipelines, lambda p: len(p) == 1)
    stages = {}
    for name in ("Contact", "Qualified"):
        stages[name] = (await pipelines.ok("POST", f"/v1/pipelines/{pipeline['id']}/stages", {"name": name}))["id"]
    await story.as_user("automation").ok(
        "POST", "/v1/robots",
        {"pipeline_id": pipeline["id"], "stage_id": stages["Contact"], "name": "Contact soon",
         "action": {"type": "create_task", "title": "Contact within 10 minutes", "assignee": {"kind": "assignee"},
                    "due_in_seconds": 600}},
    )  # fmt: skip
    return deal_type["id"], stages


async def move(story: Story, item_id: str, stage_id: str) -> None:
    pipelines = story.as_user("pipelines")
    placed = await story.settled(
        lambda: pipelines.call("GET", f"/v1/placements/{item_id}"), lambda r: r.status_code == 200
    )
    await pipelines.ok(
        "POST",
        f"/v1/placements/{item_id}/move",
        {"to_stage_id": stage_id},
        headers={"If-Match": placed.headers["ETag"]},
    )


class TestARobotsTask:
    async def test_its_people_are_told_and_it_closes_when_the_deal_leaves_the_stage(
        self, start_service: Callable[[str], Any], settled: Any
    ) -> None:
        async with AsyncExitStack() as stack:
            services = {
                name: await stack.enter_async_context(start_service(name))
                for name in ("entities", "pipelines", "automation", "notifications")
            }
            story = Story(services, settled)
            type_id, stages = await set_up(story)
            body = {"entity_type_id": type_id, "title": "ACME Ltd", "assignee_id": "manager-1"}
            deal = (await story.as_user("entities").ok("POST", "/v1/items", body))["id"]

            await move(story, deal, stages["Contact"])

            [task] = await settled(lambda: story.inbox("manager-1"), lambda found: len(found) == 1)
            [assigned] = await settled(lambda: story.notices("manager-1"), lambda found: len(found) == 1)
            assert (assigned["kind"], assigned["title"], assigned["item"]["item_id"]) == (
                "task_assigned", "New task: Contact within 10 minutes", deal,
            )  # fmt: skip

            delegate = story.as_user("automation", "manager-1")
            await settled(
                lambda: delegate.call("POST", f"/v1/tasks/{task['id']}/delegate", {"to_user_id": "manager-2"}),
                lambda r: r.status_code == 200,  # a 422 until automation's directory copy has manager-2
            )
            [handed] = await settled(lambda: story.notices("manager-2"), lambda found: len(found) == 1)
            assert (handed["kind"], handed["title"]) == (
                "task_delegated",
                "Task handed to you: Contact within 10 minutes",
            )

            await move(story, deal, stages["Qualified"])

            closed = await settled(
                lambda: story.as_user("automation").ok("GET", f"/v1/tasks/{task['id']}"),
                lambda found: found["status"] != "open",
            )
            assert (closed["status"], closed["cancel_cause"]) == ("cancelled", "item_left_stage")
            assert await story.inbox("manager-2") == []
            listed = await story.as_user("automation").ok("GET", "/v1/tasks", params={"status": "cancelled"})
            assert [t["id"] for t in listed["items"]] == [task["id"]]
