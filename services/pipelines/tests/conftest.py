"""Fixtures for the pipelines service's integration tests: the app in-process on a fresh database,
with its own consumer groups on the shared Kafka, and helpers to publish other services' events."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from conveyor_contracts import entities
from conveyor_kit.tokens import mint_token
from conveyor_messaging.actor import Actor
from conveyor_messaging.contracts import EventContract, topic_for
from conveyor_messaging.envelope import Envelope, to_kafka
from conveyor_testing.service_app import service_app
from conveyor_testing.waiting import eventually
from fastapi import FastAPI

SECRET = "pipelines-test-secret-long-enough-for-hs256"


@dataclass
class PipelinesApi:
    """The running app, a client, and ways to play the entities service's part over Kafka."""

    client: httpx.AsyncClient
    app: FastAPI
    producer: AIOKafkaProducer
    tenant: str

    def headers(
        self, user: str = "admin-1", roles: tuple[str, ...] = ("admin",), tenant: str | None = None
    ) -> dict[str, str]:
        token = mint_token(tenant_id=tenant or self.tenant, user_id=user, roles=roles, secret=SECRET)
        return {"Authorization": f"Bearer {token}"}

    def envelope(self, event: EventContract, *, subject: str, tenant: str | None = None, version: int = 1) -> Envelope:
        return Envelope(
            type=event.type_name,
            source="/conveyor/entities",
            subject=subject,
            tenant_id=tenant or self.tenant,
            data=event.model_dump(mode="json"),
            actor=Actor.user("admin-1"),
            aggregate_version=version,
        )

    async def send(self, envelope: Envelope) -> None:
        """Queue the event without waiting for its acknowledgement (``producer.flush`` waits)."""
        key, value, headers = to_kafka(envelope)
        await self.producer.send(topic_for(envelope.type), value=value, key=key, headers=headers)

    async def publish(self, event: EventContract, *, subject: str, tenant: str | None = None, version: int = 1) -> None:
        envelope = self.envelope(event, subject=subject, tenant=tenant, version=version)
        key, value, headers = to_kafka(envelope)
        await self.producer.send_and_wait(event.topic(), value=value, key=key, headers=headers)

    async def entity_type(
        self, *, pipelines_enabled: bool = True, tenant: str | None = None, code: str | None = None
    ) -> str:
        """A type announced over Kafka; returns once the service has opened its default pipeline."""
        type_id = f"type-{uuid.uuid4().hex[:10]}"
        created = entities.EntityTypeCreated(
            entity_type_id=type_id, code=code or type_id, name="Deal", settings={"pipelines_enabled": pipelines_enabled}
        )
        await self.publish(created, subject=type_id, tenant=tenant)
        if pipelines_enabled:
            # Until the type arrives, its pipelines are a 404 (an unknown type), then its default one.
            await eventually(
                lambda: self.client.get(
                    "/v1/pipelines", params={"entity_type_id": type_id}, headers=self.headers(tenant=tenant)
                ),
                lambda r: r.status_code == 200 and len(r.json()["items"]) == 1,
            )
        return type_id

    async def eventually(self, probe: Callable[[], Awaitable[Any]], accept: Callable[[Any], bool]) -> Any:
        return await eventually(probe, accept)

    async def pipelines(self, type_id: str, tenant: str | None = None) -> list[dict[str, Any]]:
        response = await self.client.get(
            "/v1/pipelines", params={"entity_type_id": type_id}, headers=self.headers(tenant=tenant)
        )
        assert response.status_code == 200, response.text
        result: list[dict[str, Any]] = response.json()["items"]
        return result

    async def item(
        self, type_id: str, *, assignee: str | None = "manager-1", amount: str | None = "100.00", **extra: Any
    ) -> dict[str, Any]:
        """An item created "by the entities service"; returns its placement once it is on the board."""
        item_id = f"item-{uuid.uuid4().hex[:12]}"
        created = entities.ItemCreated(
            item_id=item_id,
            entity_type_id=type_id,
            title=extra.pop("title", f"Deal {item_id[-4:]}"),
            assignee_id=assignee,
            amount=amount,
            currency="EUR" if amount else None,
            created_by="admin-1",
            **extra,
        )
        await self.publish(created, subject=item_id)

        async def fetch() -> httpx.Response:
            return await self.client.get(f"/v1/placements/{item_id}", headers=self.headers())

        response = await eventually(fetch, lambda r: r.status_code == 200)
        placed: dict[str, Any] = response.json()
        return placed


@pytest.fixture
async def api(fresh_database: str, infra: Any) -> AsyncIterator[PipelinesApi]:
    async with service_app(
        "pipelines", database_url=fresh_database, kafka_bootstrap=infra.kafka_bootstrap, jwt_secret=SECRET
    ) as running:
        yield PipelinesApi(
            client=running.client, app=running.app, producer=running.producer, tenant=f"tenant-{uuid.uuid4().hex[:8]}"
        )
