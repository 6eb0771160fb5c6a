"""Integration specifications of what leaves the service for other programs: the iCalendar feed as calendar apps
fetch it (zones, alarms, named people, HEAD) and the headers of the e-mails it sends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from typing import Any as Mailbox  # the fixtures of conftest.py
from typing import Any as NotificationsApi
from zoneinfo import ZoneInfo

import pytest
import vobject
from conveyor_contracts.notifications import Notify, SendEmail
from conveyor_testing.waiting import eventually
from icalendar import Calendar


def _attendees(event: Any) -> list[Any]:
    """The event's ATTENDEE properties (icalendar types them as any property value)."""
    return list(event["attendee"])


pytestmark = pytest.mark.integration
MOSCOW = ZoneInfo("Europe/Moscow")


async def _directory_user(api: NotificationsApi, user_id: str, name: str, email: str) -> None:
    async with api.app.state.pool.acquire() as conn:
        await conn.execute(
            """INSERT INTO directory_users (tenant_id, user_id, name, email, department_ids, roles, active, version)
               VALUES ($1, $2, $3, $4, '{}', '{}', true, 1)""",
            api.tenant,
            user_id,
            name,
            email,
        )


async def _feed_path(api: NotificationsApi, user: str) -> str:
    issued = await api.client.post("/v1/calendar/feed", headers=api.headers(user))
    return str(issued.json()["url"]).split("8004", 1)[1]


class TestEntryZones:
    async def test_a_start_without_an_offset_is_refused_until_a_zone_is_known(self, api: NotificationsApi) -> None:
        entry = {"title": "Call", "start": "2027-05-03T12:00:00"}
        refused = await api.client.post("/v1/calendar/entries", headers=api.headers("ivan"), json=entry)
        assert refused.status_code == 422 and "time zone" in refused.json()["detail"]

        await api.client.put(
            "/v1/preferences", headers=api.headers("ivan"), json={"language": "en", "time_zone": "Europe/Moscow"}
        )
        created = await api.client.post("/v1/calendar/entries", headers=api.headers("ivan"), json=entry)
        assert created.status_code == 201, created.text
        assert created.json()["time_zone"] == "Europe/Moscow" and created.json()["start"] == "2027-05-03T09:00:00Z"

    async def test_an_entry_names_its_own_zone_and_an_unknown_one_is_refused(self, api: NotificationsApi) -> None:
        created = await api.client.post(
            "/v1/calendar/entries",
            headers=api.headers("ivan"),
            json={"title": "Call", "start": "2027-05-03T12:00:00", "time_zone": "Asia/Tokyo"},
        )
        assert created.json()["start"] == "2027-05-03T03:00:00Z" and created.json()["time_zone"] == "Asia/Tokyo"
        unknown = await api.client.post(
            "/v1/calendar/entries",
            headers=api.headers("ivan"),
            json={"title": "Call", "start": "2027-05-03T12:00:00", "time_zone": "Mars/Olympus"},
        )
        assert unknown.status_code == 422 and "Mars/Olympus" in unknown.text


class TestFeed:
    async def test_the_feed_shows_zones_alarms_and_names_to_two_parsers(self, api: NotificationsApi) -> None:
        await _directory_user(api, "anna", "Анна Петрова", "anna@example.test")
        await _directory_user(api, "boris", "Boris Ivanov", "boris@example.test")
        created = await api.client.post(
            "/v1/calendar/entries",
            headers=api.headers("anna"),
            json={
                "title": "Meeting ЖКХ «Дом-7»",
                "start": "2027-05-03T12:00:00",
                "time_zone": "Europe/Moscow",
                "attendee_ids": ["boris", "nobody-known"],
                "reminders": [{"minutes_before": 30}, {"at": "2027-05-02T18:00:00+03:00"}],
            },
        )
        assert created.status_code == 201, created.text
        body = (await api.client.get(await _feed_path(api, "anna"))).content

        [event] = Calendar.from_ical(body).walk("VEVENT")
        assert event["dtstart"].params["TZID"] == "Europe/Moscow"
        assert event.decoded("dtstart") == datetime(2027, 5, 3, 12, 0, tzinfo=MOSCOW)
        assert [a.decoded("trigger") for a in event.walk("VALARM")] == [
            timedelta(minutes=-30),
            datetime(2027, 5, 2, 15, 0, tzinfo=UTC),
        ]
        assert {str(a): a.params.get("CN") for a in _attendees(event)} == {
            "mailto:boris@example.test": "Boris Ivanov",
            "urn:conveyor:user:nobody-known": None,
        }

        [same] = vobject.readOne(body.decode()).vevent_list
        assert same.dtstart.value == datetime(2027, 5, 3, 9, 0, tzinfo=UTC)
        assert same.dtstart.value.utcoffset() == timedelta(hours=3)
        assert same.organizer.params["CN"] == ["Анна Петрова"] and len(same.valarm_list) == 2

    async def test_head_answers_the_gets_headers_without_a_body(self, api: NotificationsApi) -> None:
        await api.client.post(
            "/v1/calendar/entries", headers=api.headers("anna"), json={"title": "Call", "start": "2027-05-03T09:00:00Z"}
        )
        path = await _feed_path(api, "anna")
        got, head = await api.client.get(path), await api.client.head(path)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["content-type"] == got.headers["content-type"] == "text/calendar; charset=utf-8"
        assert int(head.headers["content-length"]) == len(got.content)
        assert (await api.client.head("/v1/calendar/feeds/not-a-token.ics")).status_code == 404


def _value(messages: list[Any]) -> Any:
    async def current() -> Any:
        return list(messages)

    return current()


class TestMailHeaders:
    async def test_a_notification_mail_carries_date_message_id_and_list_unsubscribe(
        self, api: NotificationsApi, mailbox: Mailbox
    ) -> None:
        await _directory_user(api, "olga", "Olga", "olga@example.test")
        await api.client.put(
            "/v1/preferences", headers=api.headers("olga"), json={"language": "en", "channels": {"task": ["email"]}}
        )
        command = Notify(idempotency_key=f"k-{uuid.uuid4().hex[:10]}", recipient_ids=["olga"], kind="task", title="Hi")
        await api.publish(command, subject=command.idempotency_key)
        [mail] = await eventually(lambda: _value(mailbox.messages), lambda m: len(m) == 1)

        assert parsedate_to_datetime(mail["Date"]) == api.clock.now().replace(microsecond=0)
        assert mail["Message-ID"].startswith("<") and mail["Message-ID"].endswith("@mail.conveyor.test>")
        assert str(mail["List-Unsubscribe"]).strip() == "<https://app.conveyor.test/settings/notifications?kind=task>"

    async def test_a_mail_to_addresses_is_no_notification_and_has_no_list_unsubscribe(
        self, api: NotificationsApi, mailbox: Mailbox
    ) -> None:
        command = SendEmail(
            idempotency_key=f"k-{uuid.uuid4().hex[:10]}",
            to_addresses=["client@example.test"],
            subject="Terms",
            body_text="The terms.",
        )
        await api.publish(command, subject=command.idempotency_key)
        [mail] = await eventually(lambda: _value(mailbox.messages), lambda m: len(m) == 1)
        assert mail["Date"] and mail["Message-ID"].endswith("@mail.conveyor.test>")
        assert "List-Unsubscribe" not in mail
