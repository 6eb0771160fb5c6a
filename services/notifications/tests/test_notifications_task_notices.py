"""Task notices: whoever an automation task reaches is told, by the channels they chose for its kind."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import partial
from typing import Any
from typing import Any as Mailbox  # the fixtures of conftest.py
from typing import Any as NotificationsApi

import pytest
from conveyor_contracts.automation import TaskCreated, TaskDelegated
from conveyor_testing.waiting import eventually

pytestmark = pytest.mark.integration


async def notices(api: NotificationsApi, user: str) -> list[dict[str, Any]]:
    response = await api.client.get("/v1/notifications", headers=api.headers(user))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


async def mail(mailbox: Mailbox) -> list[Any]:
    return list(mailbox.messages)


class TestTaskNotices:
    async def test_a_role_tasks_candidates_hear_of_it_in_app_and_by_email_as_each_chose(
        self, api: NotificationsApi, mailbox: Mailbox
    ) -> None:
        await api.client.put(
            "/v1/preferences", json={"language": "en", "channels": {"task_assigned": ["in_app", "email"]}},
            headers=api.headers("boris"),
        )  # fmt: skip
        async with api.app.state.pool.acquire() as conn:
            await conn.execute(
                """INSERT INTO directory_users (tenant_id, user_id, name, email, department_ids, roles, active, version)
                   VALUES ($1, 'boris', 'Boris B', 'boris@example.test', '{}', '{}', true, 1)""",
                api.tenant,
            )
        task_id = f"task-{uuid.uuid4().hex[:8]}"
        created = TaskCreated(
            task_id=task_id, item_id="item-1", title="Approve the holiday", assignee_user_id=None,
            assignee_role="head", candidate_user_ids=["anna", "boris"], outcomes=[{"id": "done", "label": "Done"}],
            due_at=datetime(2026, 12, 8, 9, tzinfo=UTC), source="process:p-1",
        )  # fmt: skip

        await api.publish(created, subject=f"task-{task_id}")

        for user in ("anna", "boris"):
            [notice] = await eventually(partial(notices, api, user), lambda found: len(found) == 1)
            assert (notice["kind"], notice["title"], notice["item"]["item_id"]) == (
                "task_assigned", "New task: Approve the holiday", "item-1",
            )  # fmt: skip
        [email] = await eventually(lambda: mail(mailbox), lambda found: len(found) == 1)
        assert (str(email["To"]), str(email["Subject"])) == ("boris@example.test", "New task: Approve the holiday")
        assert await notices(api, "carl") == []

    async def test_a_delegated_task_is_announced_to_its_new_assignee_only(self, api: NotificationsApi) -> None:
        task_id = f"task-{uuid.uuid4().hex[:8]}"
        delegated = TaskDelegated(
            task_id=task_id, item_id=None, from_user_id="anna", to_user_id="vera", title="Call ACME Ltd"
        )

        await api.publish(delegated, subject=f"task-{task_id}")

        [notice] = await eventually(lambda: notices(api, "vera"), lambda found: len(found) == 1)
        assert (notice["kind"], notice["title"], notice["item"]) == (
            "task_delegated", "Task handed to you: Call ACME Ltd", None,
        )  # fmt: skip
        assert notice["body"] == '"Call ACME Ltd" was delegated to you by anna; it is in your task inbox.'
        assert await notices(api, "anna") == []
