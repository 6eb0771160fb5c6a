"""Integration specifications: commands over Kafka, the inbox, the calendar feed, reminders by clock, webhooks."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from typing import Any as Mailbox  # the fixtures of conftest.py
from typing import Any as NotificationsApi
from typing import Any as Receiver

import httpx
import pytest
from conveyor_contracts.notifications import (
    CallWebhook,
    CancelCalendarEntry,
    CreateCalendarEntry,
    Notify,
    ReminderSpec,
    UpdateCalendarEntry,
    calendar_entry_id_for,
)
from conveyor_testing.waiting import eventually
from icalendar import Calendar
from notifications.domain.signing import verify

pytestmark = pytest.mark.integration


def key() -> str:
    return f"key-{uuid.uuid4().hex[:10]}"


class TestInbox:
    async def test_a_notify_command_reaches_only_its_recipient_and_can_be_marked_read(
        self, api: NotificationsApi
    ) -> None:
        command = Notify(
            idempotency_key=key(), recipient_ids=["anna"], kind="task", title="Was a meeting set?", body="Company ЖКХ-1"
        )
        await api.publish(command, subject=command.idempotency_key)
        await api.publish(command, subject=command.idempotency_key)  # a repeat does nothing twice

        async def inbox() -> httpx.Response:
            response: httpx.Response = await api.client.get("/v1/notifications", headers=api.headers("anna"))
            return response

        found = await eventually(inbox, lambda r: len(r.json()["items"]) >= 1)
        assert [n["title"] for n in found.json()["items"]] == ["Was a meeting set?"]
        assert found.json()["next_cursor"] is None
        unread = await api.client.get("/v1/notifications/unread-count", headers=api.headers("anna"))
        assert unread.json() == {"unread": 1}
        other = await api.client.get("/v1/notifications", headers=api.headers("boris"))
        assert other.json()["items"] == []
        elsewhere = await api.client.get("/v1/notifications", headers=api.headers("anna", tenant="other-tenant"))
        assert elsewhere.json()["items"] == []

        marked = await api.client.post("/v1/notifications/read", json={}, headers=api.headers("anna"))
        assert marked.json()["unread"] == 0 and len(marked.json()["marked"]) == 1
        one = (
            await api.client.get(f"/v1/notifications/{marked.json()['marked'][0]}", headers=api.headers("anna"))
        ).json()
        assert one["read"] is True and one["created_at"].endswith("Z") and one["read_at"].endswith("Z")
        count = await api.client.get("/v1/notifications/unread-count", headers=api.headers("anna"))
        assert count.json() == {"unread": 0}
        still_unread = await api.client.get("/v1/notifications", params={"unread": True}, headers=api.headers("anna"))
        assert still_unread.json() == {"items": [], "next_cursor": None}

    async def test_the_inbox_pages_newest_first_with_a_cursor(self, api: NotificationsApi) -> None:
        async def inbox(**params: Any) -> Any:
            response = await api.client.get("/v1/notifications", params=params, headers=api.headers("pavel"))
            assert response.status_code == 200, response.text
            return response.json()

        for count, title in enumerate(["first", "second", "third"], start=1):
            command = Notify(idempotency_key=key(), recipient_ids=["pavel"], title=title)
            await api.publish(command, subject=command.idempotency_key)
            await eventually(inbox, _holding(count))
            api.clock.advance(1)  # each arrives at its own instant: newest first is this order reversed

        first = await inbox(limit=2)
        rest = await inbox(limit=2, cursor=first["next_cursor"])
        assert [n["title"] for n in first["items"] + rest["items"]] == ["third", "second", "first"]
        assert rest["next_cursor"] is None
        refused = await api.client.get("/v1/notifications", params={"cursor": "nonsense"}, headers=api.headers("pavel"))
        assert refused.status_code == 422 and refused.json()["type"].endswith("invalid-cursor")


class TestCalendarAndReminders:
    async def test_a_robots_entry_is_in_the_feed_and_its_reminder_arrives_in_app_and_by_email(
        self, api: NotificationsApi, mailbox: Mailbox
    ) -> None:
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=30)  # tokens expire by this clock too
        await api.client.put("/v1/preferences", json={"language": "en", "channels": {}}, headers=api.headers("mia"))
        await _directory_user(api, "mia", "mia@example.test")
        command = CreateCalendarEntry(
            idempotency_key=key(),
            title="Call ЖКХ-7",
            kind="call",
            start=start,
            organizer_id="mia",
            reminders=[ReminderSpec(minutes_before=15)],
        )
        await api.publish(command, subject=command.idempotency_key)
        entry_id = calendar_entry_id_for(api.tenant, command.idempotency_key)

        async def entry() -> httpx.Response:
            response: httpx.Response = await api.client.get(
                f"/v1/calendar/entries/{entry_id}", headers=api.headers("mia")
            )
            return response

        await eventually(entry, lambda r: r.status_code == 200)
        feed = await api.client.post("/v1/calendar/feed", headers=api.headers("mia"))
        path = feed.json()["url"].split("8004", 1)[1]
        ics = await api.client.get(path)
        [event] = Calendar.from_ical(ics.content).walk("VEVENT")
        assert str(event["summary"]) == "Call ЖКХ-7" and event.decoded("dtstart") == start

        api.clock.set(start - timedelta(minutes=16))
        api.app.state.timers.wake()
        await _quiet(api)
        assert (await api.client.get("/v1/notifications", headers=api.headers("mia"))).json()["items"] == []
        api.clock.set(start - timedelta(minutes=15))
        api.app.state.timers.wake()

        async def inbox() -> Any:
            return (await api.client.get("/v1/notifications", headers=api.headers("mia"))).json()["items"]

        items = await eventually(inbox, lambda found: len(found) == 1)
        assert items[0]["kind"] == "reminder" and "Call ЖКХ-7" in items[0]["title"]
        await eventually(lambda: _async(mailbox.messages), lambda m: len(m) == 1)
        assert "Call ЖКХ-7" in str(mailbox.messages[0]["Subject"])
        api.clock.advance(600)
        await _quiet(api)
        assert len(await inbox()) == 1  # never twice

        revoked = await api.client.delete("/v1/calendar/feed", headers=api.headers("mia"))
        assert revoked.status_code == 204 and (await api.client.get(path)).status_code == 404


class TestWebhooks:
    async def test_a_receiver_gets_a_signed_call_for_a_subscribed_event(
        self, api: NotificationsApi, receiver: Receiver
    ) -> None:
        created = await api.client.post(
            "/v1/webhooks/subscriptions",
            headers=api.headers(),
            json={"url": receiver.url, "event_types": ["conveyor.notifications.notification.*"]},
        )
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        command = Notify(idempotency_key=key(), recipient_ids=["anna"], title="Hello")
        await api.publish(command, subject=command.idempotency_key)
        await eventually(lambda: _async(receiver.requests), lambda r: len(r) == 1)
        headers, body = receiver.requests[0]
        assert verify(secret, headers["Conveyor-Signature"], body, now=int(datetime.now(UTC).timestamp()))
        assert b"notification.created" in body

    async def test_a_failing_receiver_gets_retries_then_the_subscription_is_disabled(
        self, api: NotificationsApi, receiver: Receiver
    ) -> None:
        receiver.status = 500
        created = await api.client.post(
            "/v1/webhooks/subscriptions", headers=api.headers(), json={"url": receiver.url, "event_types": ["*"]}
        )
        command = Notify(idempotency_key=key(), recipient_ids=["anna"], title="Hello")
        await api.publish(command, subject=command.idempotency_key)

        async def subscriptions() -> Any:
            api.clock.advance(1)  # retries wait for their backoff by the service's clock
            return (await api.client.get("/v1/webhooks/subscriptions", headers=api.headers())).json()["items"]

        found = await eventually(subscriptions, lambda s: not s[0]["active"])
        assert found[0]["id"] == created.json()["id"]
        assert found[0]["disabled_at"].endswith("Z") and found[0]["created_at"].endswith("Z")
        assert len(receiver.requests) == 3
        log = (await api.client.get("/v1/webhooks/deliveries", headers=api.headers())).json()["items"]
        assert log[0]["subscription_id"] == created.json()["id"] and log[0]["id"] != created.json()["id"]
        assert [a["status_code"] for a in log[0]["attempts_log"]] == [500, 500, 500]
        assert log[0]["status"] == "failed" and log[0]["finished_at"].endswith("Z")
        assert all(a["at"].endswith("Z") for a in log[0]["attempts_log"])
        enabled = await api.client.post(
            f"/v1/webhooks/subscriptions/{created.json()['id']}/enable", headers=api.headers()
        )
        assert enabled.json()["active"] is True and enabled.json()["disabled_at"] is None
        assert enabled.json()["consecutive_failures"] == 0

    async def test_subscriptions_and_deliveries_are_listed_a_page_at_a_time(
        self, api: NotificationsApi, receiver: Receiver
    ) -> None:
        subscribed: set[str] = set()
        for _ in range(2):
            created = await api.client.post(
                "/v1/webhooks/subscriptions",
                headers=api.headers(),
                json={"url": receiver.url, "event_types": ["conveyor.notifications.notification.*"]},
            )
            subscribed.add(created.json()["id"])
        command = Notify(idempotency_key=key(), recipient_ids=["anna"], title="Hello")
        await api.publish(command, subject=command.idempotency_key)
        await eventually(lambda: _async(receiver.requests), lambda r: len(r) == 2)

        async def every(path: str) -> list[Any]:
            found: list[Any] = []
            params = {"limit": "1"}
            while True:
                page = (await api.client.get(path, params=params, headers=api.headers())).json()
                assert len(page["items"]) == 1
                found += page["items"]
                if page["next_cursor"] is None:
                    return found
                params["cursor"] = page["next_cursor"]

        subscriptions = await every("/v1/webhooks/subscriptions")
        assert {s["id"] for s in subscriptions} == subscribed and len(subscriptions) == 2
        deliveries = await every("/v1/webhooks/deliveries")
        assert {d["subscription_id"] for d in deliveries} == subscribed
        assert len({d["id"] for d in deliveries}) == 2

    async def test_a_private_target_is_refused_without_the_allow_list(self, api: NotificationsApi) -> None:
        refused = await api.client.post(
            "/v1/webhooks/subscriptions",
            headers=api.headers(),
            json={"url": "http://10.0.0.1/hook", "event_types": ["*"]},
        )
        assert refused.status_code == 422


async def _async(value: Any) -> Any:
    return value


def _holding(count: int) -> Callable[[Any], bool]:
    """A page holding ``count`` items."""
    return lambda page: len(page["items"]) == count


async def _quiet(api: NotificationsApi) -> None:
    await asyncio.sleep(0.3)


async def _directory_user(api: NotificationsApi, user_id: str, email: str) -> None:
    async with api.app.state.pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO directory_users (tenant_id, user_id, name, email, department_ids, roles, active, version)
               VALUES ($1, $2, $2, $3, '{}', '{}', true, 1)""",
            api.tenant,
            user_id,
            email,
        )


class TestCommandsFromRobots:
    async def test_a_call_webhook_command_is_signed_with_the_tenants_secret(
        self, api: NotificationsApi, receiver: Receiver
    ) -> None:
        secret = (await api.client.get("/v1/settings", headers=api.headers())).json()["webhook_secret"]
        command = CallWebhook(idempotency_key=key(), url=receiver.url, payload={"company": "ЖКХ-3", "status": "won"})
        await api.publish(command, subject=command.idempotency_key)
        await api.publish(command, subject=command.idempotency_key)
        await eventually(lambda: _async(receiver.requests), lambda r: len(r) == 1)
        await _quiet(api)
        assert len(receiver.requests) == 1  # the repeated key called nothing twice
        headers, body = receiver.requests[0]
        assert verify(secret, headers["Conveyor-Signature"], body, now=int(datetime.now(UTC).timestamp()))
        assert json.loads(body) == {"company": "ЖКХ-3", "status": "won"}

        # Its outcome names the command (its sender, e.g. automation's run, records how the call ended).
        async def delivered() -> list[Any]:
            async with api.app.state.pool.acquire() as conn:
                rows = await conn.fetch(
                    "SELECT data FROM events WHERE type = 'conveyor.notifications.webhook.delivered.v1'"
                )
            return [json.loads(r["data"]) if isinstance(r["data"], str) else r["data"] for r in rows]

        [outcome] = await eventually(delivered, lambda found: len(found) == 1)
        assert (outcome["source"], outcome["subscription_id"]) == (command.idempotency_key, None)

    async def test_update_and_cancel_commands_move_and_drop_an_entry(self, api: NotificationsApi) -> None:
        start = datetime(2027, 6, 1, 10, 0, tzinfo=UTC)
        created = CreateCalendarEntry(idempotency_key=key(), title="Meeting", start=start, organizer_id="mia")
        await api.publish(created, subject=created.idempotency_key)
        entry_id = calendar_entry_id_for(api.tenant, created.idempotency_key)

        async def entry() -> Any:
            response = await api.client.get(f"/v1/calendar/entries/{entry_id}", headers=api.headers("mia"))
            return response.json() if response.status_code == 200 else None

        await eventually(entry, lambda found: found is not None)
        moved = UpdateCalendarEntry(idempotency_key=key(), entry_id=entry_id, start=start + timedelta(hours=2))
        await api.publish(moved, subject=moved.idempotency_key)
        found = await eventually(entry, lambda found: found["version"] == 2)
        assert found["start"].startswith("2027-06-01T12:00") and found["end"].startswith("2027-06-01T12:30")
        cancel = CancelCalendarEntry(idempotency_key=key(), entry_id=entry_id, reason="client declined")
        await api.publish(cancel, subject=cancel.idempotency_key)
        await eventually(entry, lambda found: found["status"] == "cancelled")

    async def test_a_command_for_an_unknown_entry_is_rejected_with_an_event(self, api: NotificationsApi) -> None:
        command = CancelCalendarEntry(idempotency_key=key(), entry_id="no-such-entry")
        await api.publish(command, subject=command.idempotency_key)

        async def rejections() -> list[Any]:
            async with api.app.state.pool.acquire() as conn:
                rows = await conn.fetch(
                    "SELECT data FROM events WHERE type = 'conveyor.notifications.command.rejected.v1'"
                )
            return [json.loads(r["data"]) if isinstance(r["data"], str) else r["data"] for r in rows]

        [rejected] = await eventually(rejections, lambda found: len(found) == 1)
        assert rejected["idempotency_key"] == command.idempotency_key and "no-such-entry" in rejected["reason"]
