"""A notice's kind, chosen by whoever sent it (an automation rule's `notify` kind), routed by each user's
preferences."""

from __future__ import annotations

import uuid
from typing import Any
from typing import Any as Mailbox  # the fixtures of conftest.py
from typing import Any as NotificationsApi

import pytest
from conveyor_contracts.notifications import Notify
from conveyor_testing.waiting import eventually

pytestmark = pytest.mark.integration


async def directory_user(api: NotificationsApi, user_id: str) -> None:
    async with api.app.state.pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO directory_users (tenant_id, user_id, name, email, department_ids, roles, active, version)
               VALUES ($1, $2, $2, $3, '{}', '{}', true, 1)""",
            api.tenant,
            user_id,
            f"{user_id}@example.test",
        )


async def notify(api: NotificationsApi, kind: str, title: str, *users: str) -> None:
    command = Notify(idempotency_key=f"key-{uuid.uuid4().hex[:10]}", recipient_ids=list(users), kind=kind, title=title)
    await api.publish(command, subject=command.idempotency_key)


class TestKindsOfNotices:
    async def test_a_rules_own_kind_goes_by_e_mail_only_to_those_who_asked_for_it(
        self, api: NotificationsApi, mailbox: Mailbox
    ) -> None:
        for user in ("vera", "oleg"):
            await directory_user(api, user)
        chosen = {"language": "en", "channels": {"sla_breach": ["in_app", "email"]}}
        await api.client.put("/v1/preferences", json=chosen, headers=api.headers("vera"))

        await notify(api, "sla_breach", "Lead not contacted", "vera", "oleg")

        async def kinds(user: str) -> Any:
            response = await api.client.get("/v1/notifications", headers=api.headers(user))
            return sorted(n["kind"] for n in response.json()["items"])

        # A notice and its e-mails are kept in one transaction: once both inboxes hold it, every mail it asked
        # for is queued.
        assert await eventually(lambda: kinds("vera"), lambda found: found == ["sla_breach"])
        assert await eventually(lambda: kinds("oleg"), lambda found: found == ["sla_breach"])
        async with api.app.state.pool.acquire() as conn:
            queued = await conn.fetch("SELECT recipients, subject FROM emails WHERE tenant_id = $1", api.tenant)
        assert [(list(row["recipients"]), "Lead not contacted" in row["subject"]) for row in queued] == [
            (["vera@example.test"], True)
        ]
        delivered = await eventually(lambda: _async(mailbox.messages), lambda found: len(found) == 1)
        assert str(delivered[0]["To"]) == "vera@example.test"


async def _async(value: Any) -> Any:
    return value
