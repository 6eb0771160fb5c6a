"""The notifications service from outside: a robot's calendar entry in the user's iCalendar feed, its reminder
in-app and by e-mail on the test clock, and webhooks a loopback receiver verifies (or keeps refusing).

The service runs under uvicorn on a free port with its own database, a real SMTP server (aiosmtpd) and an
HTTP receiver on loopback; the robot's command travels over Kafka exactly as the automation service sends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
import uvicorn
import vobject
from aiokafka import AIOKafkaProducer
from aiosmtpd.controller import Controller
from conveyor_contracts.directory import UserRegistered
from conveyor_contracts.notifications import CreateCalendarEntry, ReminderSpec, calendar_entry_id_for
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_kit.tokens import mint_token
from conveyor_messaging.actor import Actor
from conveyor_messaging.envelope import Envelope, to_kafka
from conveyor_testing.kafka import start_groups_at_end
from conveyor_testing.services import free_port
from icalendar import Calendar
from notifications.config import Settings
from notifications.domain.signing import verify
from notifications.entrypoints.http import create
from notifications.migrations import MIGRATIONS_PATH
from notifications.routing import SUBSCRIPTIONS

pytestmark = pytest.mark.e2e
SECRET = "e2e-notifications-secret-long-enough-for-hs256"
TEN_YEARS = 10 * 365 * 24 * 3600


class Mailbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


class Receiver:
    def __init__(self) -> None:
        self.status = 200
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.requests.append((dict(self.headers.items()), body))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    async def about(self, title: str) -> list[tuple[dict[str, str], bytes]]:
        """The requests about one calendar entry. Only those: the service's webhook consumer may still be
        catching up with an earlier test's entries of the same tenant when a new subscription is made,
        and those then reach it too."""
        return [(headers, body) for headers, body in self.requests if f'"title":"{title}"'.encode() in body]


class Notifications:
    """The running service, a user's view of it, and the robot's way in (its command on Kafka)."""

    def __init__(self, base_url: str, http: httpx.AsyncClient, producer: AIOKafkaProducer) -> None:
        self.base_url, self.http, self.producer = base_url, http, producer
        self.tenant = f"acme-{uuid.uuid4().hex[:8]}"

    async def call(self, method: str, path: str, user: str = "admin-1", body: Any = None) -> httpx.Response:
        # The tests move the service's clock years ahead and expiry is checked by that clock, while PyJWT checks
        # `iat` by the real one: a token issued now that lives for ten years satisfies both.
        token = mint_token(tenant_id=self.tenant, user_id=user, roles=("admin",), secret=SECRET, ttl_seconds=TEN_YEARS)
        return await self.http.request(
            method, self.base_url + path, json=body, headers={"Authorization": f"Bearer {token}"}
        )

    async def robot_sends(self, command: CreateCalendarEntry) -> None:
        envelope = Envelope(
            type=command.type_name,
            source="/conveyor/automation",
            subject=command.idempotency_key,
            tenant_id=self.tenant,
            data=command.model_dump(mode="json"),
            actor=Actor.parse("robot:onboarding-call"),
        )
        key, value, headers = to_kafka(envelope)
        await self.producer.send_and_wait(command.topic(), value=value, key=key, headers=headers)

    async def settled(self, probe: Any, accept: Any, within: float = 20.0) -> Any:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            value = await probe()
            if accept(value):
                return value
            assert asyncio.get_running_loop().time() < deadline, f"never settled; last value {value!r}"
            await asyncio.sleep(0.1)


@pytest.fixture(scope="module")
def mailbox() -> Iterator[tuple[Mailbox, int]]:
    box, port = Mailbox(), free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box, port
    controller.stop()


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.server.shutdown()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def service(infra: Any, mailbox: tuple[Mailbox, int]) -> AsyncIterator[Notifications]:
    name = f"e2e_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(infra.postgres_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    dsn = infra.dsn_for(name)
    await upgrade_in_thread(MIGRATIONS_PATH, dsn)
    suffix = f".e2e-{uuid.uuid4().hex[:8]}"
    await start_groups_at_end(
        infra.kafka_bootstrap, {f"notifications.{s.name}{suffix}": s.topics for s in SUBSCRIPTIONS}
    )
    port = free_port()
    settings = Settings(
        database_url=dsn,
        kafka_bootstrap_servers=infra.kafka_bootstrap,
        environment="test",
        jwt_secret=SECRET,
        consumer_group_suffix=suffix,
        test_clock_enabled=True,
        host="127.0.0.1",
        port=port,
        public_base_url=f"http://127.0.0.1:{port}",
        smtp_host="127.0.0.1",
        smtp_port=mailbox[1],
        webhook_allow_hosts=["127.0.0.1"],
        webhook_backoff_seconds=30,
        webhook_max_attempts=3,
        webhook_disable_after_failures=3,
    )
    server = uvicorn.Server(uvicorn.Config(create(settings), host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            base = f"http://127.0.0.1:{port}"
            for _ in range(300):
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get(base + "/health/ready")).status_code == 200:
                        break
                await asyncio.sleep(0.1)
            yield Notifications(base, http, producer)
    finally:
        await producer.stop()
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 15)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


class TestARobotsCalendarEntry:
    async def test_it_is_in_the_feed_and_its_reminder_arrives_in_app_and_by_email(
        self, service: Notifications, mailbox: tuple[Mailbox, int]
    ) -> None:
        await service.call("POST", "/v1/test/clock", body={"set_to": "2027-02-01T08:00:00Z"})
        meeting = datetime(2027, 2, 1, 12, 0, tzinfo=UTC)
        key = f"onboarding-{uuid.uuid4().hex[:8]}"
        await service.robot_sends(
            CreateCalendarEntry(
                idempotency_key=key,
                title="Meeting ЖКХ «Дом-7»",
                kind="meeting",
                start=meeting,
                organizer_id="manager-1",
                reminders=[ReminderSpec(minutes_before=60)],
                time_zone="Europe/Moscow",
            )
        )
        entry_id = calendar_entry_id_for(service.tenant, key)
        feed_response = await service.call("POST", "/v1/calendar/feed", user="manager-1")
        assert feed_response.status_code == 201, feed_response.text
        feed = feed_response.json()

        async def events() -> list[Any]:
            response = await service.http.get(feed["url"])
            return list(Calendar.from_ical(response.content).walk("VEVENT")) if response.status_code == 200 else []

        [event] = await service.settled(events, lambda found: len(found) == 1)
        assert str(event["uid"]).startswith(entry_id) and str(event["summary"]) == "Meeting ЖКХ «Дом-7»"
        assert event.decoded("dtstart") == meeting and event.decoded("dtend") == meeting + timedelta(minutes=30)
        # In the entry's zone with its definition, an alarm per reminder, read alike by a second parser.
        assert event["dtstart"].params["TZID"] == "Europe/Moscow"
        assert [alarm.decoded("trigger") for alarm in event.walk("VALARM")] == [timedelta(minutes=-60)]
        body = (await service.http.get(feed["url"])).content
        [same] = vobject.readOne(body.decode()).vevent_list
        assert same.dtstart.value == meeting and same.dtstart.value.utcoffset() == timedelta(hours=3)
        head = await service.http.head(feed["url"])
        assert head.status_code == 200 and head.content == b"" and int(head.headers["content-length"]) == len(body)

        # Time passes on the service's clock: nothing before the reminder is due, one reminder once it is.
        await service.call("POST", "/v1/test/clock", body={"set_to": "2027-02-01T10:59:00Z"})
        await asyncio.sleep(1.5)
        assert (await service.call("GET", "/v1/notifications", user="manager-1")).json()["items"] == []
        await service.call("POST", "/v1/test/clock", body={"set_to": "2027-02-01T11:00:00Z"})

        async def inbox() -> list[Any]:
            return list((await service.call("GET", "/v1/notifications", user="manager-1")).json()["items"])

        [notice] = await service.settled(inbox, lambda found: len(found) == 1)
        assert notice["kind"] == "reminder" and "Дом-7" in notice["title"]

    async def test_a_reminder_reaches_the_mailbox_when_the_user_has_an_address(
        self, service: Notifications, mailbox: tuple[Mailbox, int]
    ) -> None:
        # The directory copy is fed by the entities service's events; here the robot's tenant user has one.
        box = mailbox[0]
        await service.call("POST", "/v1/test/clock", body={"set_to": "2027-03-01T08:00:00Z"})
        await _directory_user_through_events(service, "manager-2", "manager-2@example.test")
        key = f"onboarding-{uuid.uuid4().hex[:8]}"
        await service.robot_sends(
            CreateCalendarEntry(
                idempotency_key=key,
                title="Call «Дом-9»",
                kind="call",
                start=datetime(2027, 3, 1, 9, 0, tzinfo=UTC),
                organizer_id="manager-2",
                reminders=[ReminderSpec(minutes_before=15)],
            )
        )
        entry_id = calendar_entry_id_for(service.tenant, key)

        async def entry() -> int:
            return (await service.call("GET", f"/v1/calendar/entries/{entry_id}", user="manager-2")).status_code

        await service.settled(entry, lambda status: status == 200)
        before = len(box.messages)
        await service.call("POST", "/v1/test/clock", body={"set_to": "2027-03-01T08:45:00Z"})

        async def mails() -> list[Message]:
            return [m for m in box.messages[before:] if "Дом-9" in str(m["Subject"])]

        [mail] = await service.settled(mails, lambda found: len(found) == 1)
        assert mail["To"] == "manager-2@example.test"
        assert "Дом-9" in mail.get_body(("plain",)).get_content()
        # A notification: dated, identified, and with the way to turn such e-mails off.
        assert parsedate_to_datetime(mail["Date"]) == datetime(2027, 3, 1, 8, 45, tzinfo=UTC)
        assert re.fullmatch(r"<[^@<>]+@[^@<>]+>", mail["Message-ID"])
        unsubscribe = str(mail["List-Unsubscribe"]).strip()  # a long one is folded onto its own line
        assert unsubscribe.startswith("<http") and unsubscribe.endswith("/settings/notifications?kind=reminder>")


class TestWebhooks:
    async def test_a_loopback_receiver_verifies_the_signature(self, service: Notifications, receiver: Receiver) -> None:
        receiver.status, receiver.requests[:] = 200, []
        created = await service.call(
            "POST",
            "/v1/webhooks/subscriptions",
            body={"url": receiver.url, "event_types": ["conveyor.notifications.calendar_entry.*"]},
        )
        secret = created.json()["secret"]
        await service.call(
            "POST",
            "/v1/calendar/entries",
            user="manager-1",
            body={"title": "Terms call", "kind": "call", "start": "2027-04-01T09:00:00Z"},
        )
        [(headers, body), *_] = await service.settled(lambda: receiver.about("Terms call"), bool)
        assert verify(secret, headers["Conveyor-Signature"], body, now=int(datetime.now(UTC).timestamp()))
        assert not verify(secret, headers["Conveyor-Signature"], body + b" ", now=int(datetime.now(UTC).timestamp()))
        await service.call("DELETE", f"/v1/webhooks/subscriptions/{created.json()['id']}")

    async def test_a_failing_receiver_gets_retries_with_backoff_then_is_disabled(
        self, service: Notifications, receiver: Receiver
    ) -> None:
        receiver.status, receiver.requests[:] = 503, []
        created = await service.call(
            "POST",
            "/v1/webhooks/subscriptions",
            body={"url": receiver.url, "event_types": ["conveyor.notifications.calendar_entry.*"]},
        )
        await service.call(
            "POST",
            "/v1/calendar/entries",
            user="manager-1",
            body={"title": "Doomed", "kind": "call", "start": "2027-04-02T09:00:00Z"},
        )

        async def delivery() -> dict[str, Any]:
            query = f"/v1/webhooks/deliveries?subscription_id={created.json()['id']}"
            items = (await service.call("GET", query)).json()["items"]
            return items[0] if items else {"attempts": 0, "attempts_log": []}

        # Each attempt is recorded (its outcome in the log, its next one due) before the clock moves on:
        # moved while the service was still calling or recording, the clock would push the next attempt
        # past it. `attempts` and `next_attempt_at` alone do not say so: claiming an attempt sets both
        # (the lease), before the call.
        await service.settled(delivery, lambda found: len(found["attempts_log"]) == 1)
        assert len(await receiver.about("Doomed")) == 1  # the retry waits for its backoff (30 s of the clock)
        for seconds, attempts in ((30, 2), (60, 3)):  # 30 s, then doubled
            await service.call("POST", "/v1/test/clock", body={"advance_seconds": seconds})
            await service.settled(lambda: receiver.about("Doomed"), functools.partial(_has_length, attempts))
            await service.settled(delivery, lambda found, n=attempts: len(found["attempts_log"]) == n)

        async def subscription() -> dict[str, Any]:
            items = (await service.call("GET", "/v1/webhooks/subscriptions")).json()["items"]
            return next(s for s in items if s["id"] == created.json()["id"])

        disabled = await service.settled(subscription, lambda found: not found["active"])
        assert disabled["consecutive_failures"] == 3
        log = (await service.call("GET", f"/v1/webhooks/deliveries?subscription_id={created.json()['id']}")).json()
        assert [a["status_code"] for a in log["items"][0]["attempts_log"]] == [503, 503, 503]
        assert log["items"][0]["status"] == "failed"


def _has_length(length: int, found: list[Any]) -> bool:
    return len(found) == length


async def _directory_user_through_events(service: Notifications, user_id: str, email: str) -> None:
    saved = UserRegistered(user_id=user_id, name=user_id, email=email)
    envelope = Envelope(
        type=saved.type_name,
        source="/conveyor/entities",
        subject=user_id,
        tenant_id=service.tenant,
        data=saved.model_dump(mode="json"),
        actor=Actor.user("admin-1"),
        aggregate_version=1,
    )
    key, value, headers = to_kafka(envelope)
    await service.producer.send_and_wait(saved.topic(), value=value, key=key, headers=headers)
