"""Fixtures for the reporting service's integration tests: the app in-process on a fresh database,
with its own consumer groups on the shared Kafka, and a way to play the other services' part."""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_kit.tokens import mint_token
from conveyor_messaging.actor import Actor
from conveyor_messaging.contracts import EventContract
from conveyor_messaging.envelope import Envelope, to_kafka
from conveyor_testing.kafka import start_groups_at_end
from conveyor_testing.waiting import eventually
from fastapi import FastAPI
from reporting.adapters import analysts
from reporting.bootstrap import PROJECTIONS_GROUP
from reporting.config import Settings
from reporting.entrypoints.http import create
from reporting.migrations import MIGRATIONS_PATH
from reporting.routing import PROJECTION_TOPICS, SUBSCRIPTIONS

SECRET = "reporting-test-secret-long-enough-for-hs256"


@dataclass
class ReportingApi:
    """The running app, a client, and the producer that plays the entities and pipelines services."""

    client: httpx.AsyncClient
    app: FastAPI
    producer: AIOKafkaProducer
    tenant: str
    database_url: str

    def headers(
        self, user: str = "admin-1", roles: tuple[str, ...] = ("admin",), tenant: str | None = None
    ) -> dict[str, str]:
        token = mint_token(tenant_id=tenant or self.tenant, user_id=user, roles=roles, secret=SECRET)
        return {"Authorization": f"Bearer {token}"}

    def envelope(
        self,
        event: EventContract,
        *,
        subject: str,
        at: datetime | None = None,
        source: str = "entities",
        version: int = 1,
        actor: Actor | None = None,
    ) -> Envelope:
        """``event`` of the test's tenant as the service that owns it would publish it."""
        return Envelope(
            type=event.type_name,
            source=f"/conveyor/{source}",
            subject=subject,
            tenant_id=self.tenant,
            data=event.model_dump(mode="json"),
            actor=actor or Actor.user("admin-1"),
            aggregate_version=version,
            time=at or datetime.now(UTC),
        )

    async def publish(self, event: EventContract, *, subject: str, **how: Any) -> Envelope:
        """Send ``event`` to its topic; ``how`` as for ``envelope`` (time, source, version, actor)."""
        envelope = self.envelope(event, subject=subject, **how)
        key, value, headers = to_kafka(envelope)
        await self.producer.send(event.topic(), value=value, key=key, headers=headers)
        return envelope

    async def report(self, path: str, accept: Callable[[Any], bool], **params: Any) -> Any:
        """The report once ``accept`` takes it (events travel through Kafka first)."""

        headers = params.pop("_headers", None) or self.headers()

        async def fetch() -> Any:
            response = await self.client.get(path, params=params, headers=headers)
            if response.status_code == 404 and response.json()["type"].endswith("/unknown-entity-type"):
                return None  # the type's creation is not projected yet
            assert response.status_code == 200, response.text
            return response.json()

        return await eventually(fetch, lambda report: report is not None and accept(report))

    async def eventually(self, probe: Callable[[], Awaitable[Any]], accept: Callable[[Any], bool]) -> Any:
        return await eventually(probe, accept)


@pytest.fixture
async def api(fresh_database: str, infra: Any) -> AsyncIterator[ReportingApi]:
    await upgrade_in_thread(MIGRATIONS_PATH, fresh_database)
    suffix = f".test-{uuid.uuid4().hex[:8]}"
    groups = {f"reporting.{s.name}{suffix}": list(s.topics) for s in SUBSCRIPTIONS}
    groups[PROJECTIONS_GROUP + suffix] = PROJECTION_TOPICS
    await start_groups_at_end(infra.kafka_bootstrap, groups)
    settings = Settings(
        database_url=fresh_database,
        kafka_bootstrap_servers=infra.kafka_bootstrap,
        environment="test",
        jwt_secret=SECRET,
        consumer_group_suffix=suffix,
    )
    app = create(settings)
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all", linger_ms=5)
    await producer.start()
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting.test") as client,
        ):
            yield ReportingApi(
                client=client,
                app=app,
                producer=producer,
                tenant=f"tenant-{uuid.uuid4().hex[:8]}",
                database_url=fresh_database,
            )
    finally:
        await producer.stop()


AnalystSession = Callable[[str, str], contextlib.AbstractAsyncContextManager[asyncpg.Connection]]


@pytest.fixture
def as_analyst() -> AnalystSession:
    """``async with as_analyst(database_url, tenant) as conn``: a connection acting as a new analyst of the tenant
    (a role of the whole server, so it is dropped afterwards)."""

    @contextlib.asynccontextmanager
    async def session(database_url: str, tenant: str) -> AsyncIterator[asyncpg.Connection]:
        role = f"analyst_test_{uuid.uuid4().hex[:12]}"
        conn = await asyncpg.connect(database_url)
        try:
            await analysts.create(conn, role=role, tenant_id=tenant, password=secrets.token_urlsafe(16))
            async with conn.transaction():
                await conn.execute(f"SET LOCAL ROLE {role}")
                yield conn
        finally:
            await analysts.drop(conn, role)
            await conn.close()

    return session
