"""Fixtures for the entities service's tests: the app in-process on a fresh database, with its own
consumer groups on the shared Kafka, a client per tenant, and a way to publish other services' events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from conveyor_kit.tokens import mint_token
from conveyor_messaging.actor import Actor
from conveyor_messaging.contracts import EventContract
from conveyor_messaging.envelope import Envelope, to_kafka
from conveyor_testing.service_app import service_app
from conveyor_testing.waiting import eventually
from fastapi import FastAPI

ENTITIES_SECRET = "entities-test-secret-long-enough-for-hs256"


@dataclass
class EntitiesApi:
    """The running app and an HTTP client that speaks for one tenant (as its admin by default)."""

    client: httpx.AsyncClient
    app: FastAPI
    producer: AIOKafkaProducer
    tenant: str

    def auth(
        self, user: str = "admin-1", roles: tuple[str, ...] = ("admin",), tenant: str | None = None
    ) -> dict[str, str]:
        token = mint_token(tenant_id=tenant or self.tenant, user_id=user, roles=roles, secret=ENTITIES_SECRET)
        return {"Authorization": f"Bearer {token}"}

    async def call(
        self, method: str, path: str, body: Any = None, *, headers: dict[str, str] | None = None, **auth: Any
    ) -> httpx.Response:
        return await self.client.request(method, path, json=body, headers={**self.auth(**auth), **(headers or {})})

    async def ok(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = await self.call(method, path, body, **kwargs)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    async def entity_type(self, fields: list[dict[str, Any]] = (), **settings: Any) -> dict[str, Any]:  # type: ignore[assignment]
        code = f"t_{uuid.uuid4().hex[:8]}"
        created = await self.ok("POST", "/v1/entity-types", {"code": code, "name": "Company", "settings": settings})
        for field in fields:
            await self.ok("POST", f"/v1/entity-types/{created['id']}/fields", field)
        result: dict[str, Any] = await self.ok("GET", f"/v1/entity-types/{created['id']}")
        return result

    async def eventually(self, probe: Callable[[], Awaitable[Any]], accept: Callable[[Any], bool]) -> Any:
        return await eventually(probe, accept)

    async def item(self, type_id: str, title: str = "Acme", **values: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.ok(
            "POST", "/v1/items", {"entity_type_id": type_id, "title": title, **values}
        )
        return result

    async def publish(
        self,
        event: EventContract,
        *,
        subject: str,
        actor: Actor | None = None,
        version: int = 1,
        at: datetime | None = None,
    ) -> None:
        envelope = Envelope(
            type=event.type_name,
            source="/conveyor/pipelines",
            subject=subject,
            tenant_id=self.tenant,
            data=event.model_dump(mode="json"),
            actor=actor or Actor("robot", "tunnel-1"),
            aggregate_version=version,
            time=at or datetime.now(UTC),
        )
        key, value, headers = to_kafka(envelope)
        await self.producer.send_and_wait(event.topic(), value=value, key=key, headers=headers)


@pytest.fixture
async def entities(fresh_database: str, infra: Any) -> AsyncIterator[EntitiesApi]:
    async with service_app(
        "entities",
        database_url=fresh_database,
        kafka_bootstrap=infra.kafka_bootstrap,
        jwt_secret=ENTITIES_SECRET,
        test_clock_enabled=True,
    ) as running:
        yield EntitiesApi(
            client=running.client, app=running.app, producer=running.producer, tenant=f"tenant-{uuid.uuid4().hex[:8]}"
        )
