"""Fixtures for the notifications service's integration tests: the app in-process on a fresh database with a
controllable clock, its own consumer groups, a real SMTP server and a webhook receiver on loopback."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import Envelope as SmtpEnvelope
from conveyor_kit.clock import ControllableClock
from conveyor_kit.tokens import mint_token
from conveyor_messaging.actor import Actor
from conveyor_messaging.contracts import EventContract
from conveyor_messaging.envelope import Envelope, to_kafka
from conveyor_testing.service_app import service_app
from fastapi import FastAPI

SECRET = "notifications-test-secret-long-enough-for-hs256"


class Mailbox:
    """What the loopback SMTP server received."""

    def __init__(self) -> None:
        self.messages: list[Message] = []
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: SmtpEnvelope) -> str:
        content = envelope.content if isinstance(envelope.content, bytes) else b""
        self.messages.append(message_from_bytes(content, policy=policy.default))
        return "250 OK"


@dataclass
class Receiver:
    """A webhook receiver on loopback that answers ``status`` and keeps every request."""

    port: int = 0
    status: int = 200
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        box.port = probe.getsockname()[1]
    controller = Controller(box, hostname="127.0.0.1", port=box.port)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            state.requests.append(({k: v for k, v in self.headers.items()}, body))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class NotificationsApi:
    client: httpx.AsyncClient
    app: FastAPI
    producer: AIOKafkaProducer
    tenant: str

    @property
    def clock(self) -> ControllableClock:
        clock: ControllableClock = self.app.state.clock
        return clock

    def headers(
        self, user: str = "admin-1", roles: tuple[str, ...] = ("admin",), tenant: str | None = None
    ) -> dict[str, str]:
        token = mint_token(tenant_id=tenant or self.tenant, user_id=user, roles=roles, secret=SECRET)
        return {"Authorization": f"Bearer {token}"}

    async def publish(
        self, event: EventContract, *, subject: str, source: str = "/conveyor/automation", tenant: str | None = None
    ) -> None:
        envelope = Envelope(
            type=event.type_name,
            source=source,
            subject=subject,
            tenant_id=tenant or self.tenant,
            data=event.model_dump(mode="json"),
            actor=Actor.parse("robot:robot-1"),
            aggregate_version=1,
        )
        key, value, headers = to_kafka(envelope)
        await self.producer.send_and_wait(event.topic(), value=value, key=key, headers=headers)


@pytest.fixture
async def api(fresh_database: str, infra: Any, mailbox: Mailbox) -> AsyncIterator[NotificationsApi]:
    async with service_app(
        "notifications",
        database_url=fresh_database,
        kafka_bootstrap=infra.kafka_bootstrap,
        jwt_secret=SECRET,
        test_clock_enabled=True,
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        mail_domain="mail.conveyor.test",
        preferences_url="https://app.conveyor.test/settings/notifications",
        webhook_allow_hosts=["127.0.0.1"],
        webhook_backoff_seconds=0.05,
        webhook_max_attempts=3,
        webhook_disable_after_failures=3,
        poll_interval_seconds=0.05,
    ) as running:
        yield NotificationsApi(
            client=running.client, app=running.app, producer=running.producer, tenant=f"tenant-{uuid.uuid4().hex[:8]}"
        )
