"""Fixtures for the automation service's integration tests: the app in-process on a fresh database,
its own consumer groups on the shared Kafka, a controllable clock, and ways to play the entities
and pipelines services' parts over Kafka."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from automation.config import Settings
from automation.entrypoints.http import create
from automation.migrations import MIGRATIONS_PATH
from automation.routing import SUBSCRIPTIONS
from conveyor_contracts import directory, entities, pipelines
from conveyor_kit.clock import ControllableClock
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_kit.tokens import mint_token
from conveyor_messaging.actor import Actor
from conveyor_messaging.contracts import EventContract
from conveyor_messaging.envelope import Envelope, to_kafka
from conveyor_testing.kafka import start_groups_at_end
from conveyor_testing.waiting import eventually
from fastapi import FastAPI

SECRET = "automation-test-secret-long-enough-for-hs256"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = 86400.0


@dataclass
class Automation:
    """The running app, a client, a clock shared across restarts, and the other services' parts."""

    database: str
    producer: AIOKafkaProducer
    tenant: str
    client: httpx.AsyncClient | None = None
    app: FastAPI | None = None
    now: datetime = START
    versions: dict[str, int] = field(default_factory=dict)

    # ------------------------------------------------------------ HTTP

    def headers(self, user: str = "admin-1", roles: tuple[str, ...] = ("admin",)) -> dict[str, str]:
        token = mint_token(tenant_id=self.tenant, user_id=user, roles=roles, secret=SECRET, now=self.now)
        return {"Authorization": f"Bearer {token}"}

    @property
    def http(self) -> httpx.AsyncClient:
        assert self.client is not None, "the app is not running"
        return self.client

    async def add_robot(self, **spec: Any) -> dict[str, Any]:
        response = await self.http.post("/v1/robots", json=spec, headers=self.headers())
        assert response.status_code == 201, response.text
        robot: dict[str, Any] = response.json()
        return robot

    async def add_trigger(self, **spec: Any) -> dict[str, Any]:
        response = await self.http.post("/v1/triggers", json=spec, headers=self.headers())
        assert response.status_code == 201, response.text
        trigger: dict[str, Any] = response.json()
        return trigger

    async def log(self, item_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/v1/automation-log/{item_id}", headers=self.headers())
        assert response.status_code == 200, response.text
        found: dict[str, Any] = response.json()
        return found

    # ------------------------------------------------------------ time

    def advance(self, seconds: float) -> None:
        """Move the service's clock (and the time of the events we publish) forward; wake the timers."""
        self.now += timedelta(seconds=seconds)
        assert self.app is not None
        clock = self.app.state.clock
        assert isinstance(clock, ControllableClock)
        clock.set(self.now)
        self.app.state.timers.wake()

    # ------------------------------------------------------------ other services' events

    async def publish(self, event: EventContract, *, subject: str, source: str = "/conveyor/entities") -> Envelope:
        self.versions[subject] = self.versions.get(subject, 0) + 1
        envelope = self.envelope(event, subject=subject, version=self.versions[subject], source=source)
        await self.redeliver(envelope, event.topic())
        return envelope

    def envelope(
        self, event: EventContract, *, subject: str, version: int, source: str = "/conveyor/entities", **lane: Any
    ) -> Envelope:
        """The event as its service would publish it; ``lane``: ``lane=`` and ``after_bulk=`` (ADR 004)."""
        return Envelope(
            type=event.type_name, source=source, subject=subject, tenant_id=self.tenant,
            data=event.model_dump(mode="json"), actor=Actor.user("admin-1"), aggregate_version=version,
            time=self.now, **lane,
        )  # fmt: skip

    async def redeliver(self, envelope: Envelope, topic: str) -> None:
        key, value, headers = to_kafka(envelope)
        await self.producer.send_and_wait(topic, value=value, key=key, headers=headers)

    async def user(
        self, user_id: str, name: str, *, departments: tuple[str, ...] = (), roles: tuple[str, ...] = ()
    ) -> None:
        registered = directory.UserRegistered(
            user_id=user_id, name=name, email=f"{user_id}@example.test", department_ids=list(departments),
            roles=list(roles),
        )  # fmt: skip
        await self.publish(registered, subject=user_id)

    async def department(self, department_id: str, head: str | None, parent: str | None = None) -> None:
        created = directory.DepartmentCreated(
            department_id=department_id, name=department_id, head_user_id=head, parent_id=parent
        )
        await self.publish(created, subject=department_id)

    async def entity_type(self, type_id: str, *, code: str | None = None) -> None:
        """The entities service defines a type; returns once automation's copy knows it."""
        created = entities.EntityTypeCreated(entity_type_id=type_id, code=code or type_id, name=type_id, settings={})
        await self.publish(created, subject=type_id)
        await eventually(
            lambda: self.fetch(
                "SELECT 1 FROM automation_entity_types WHERE tenant_id = $1 AND entity_type_id = $2",
                self.tenant,
                type_id,
            ),
            lambda rows: len(rows) == 1,
        )

    async def item(self, type_id: str, *, assignee: str | None = "manager-1", **fields: Any) -> str:
        item_id = f"item-{uuid.uuid4().hex[:12]}"
        created = entities.ItemCreated(
            item_id=item_id, entity_type_id=type_id, title=f"Deal {item_id[-4:]}", assignee_id=assignee,
            created_by="admin-1", fields=fields,
        )  # fmt: skip
        await self.publish(created, subject=item_id)
        return item_id

    async def place(self, item_id: str, type_id: str, pipeline_id: str, stage_id: str) -> Envelope:
        placed = pipelines.ItemPlaced(
            item_id=item_id, entity_type_id=type_id, pipeline_id=pipeline_id, stage_id=stage_id,
            stage_semantic="in_progress",
        )  # fmt: skip
        return await self.publish(placed, subject=item_id, source="/conveyor/pipelines")

    async def move(
        self, item_id: str, type_id: str, pipeline_id: str, from_stage: str | None, to_stage: str
    ) -> Envelope:
        moved = pipelines.ItemMovedToStage(
            item_id=item_id, entity_type_id=type_id, from_pipeline_id=pipeline_id, from_stage_id=from_stage,
            from_semantic="in_progress" if from_stage else None, to_pipeline_id=pipeline_id, to_stage_id=to_stage,
            to_semantic="in_progress", moved_by="user:manager-1", moved_at=self.now,
        )  # fmt: skip
        return await self.publish(moved, subject=f"pipelines-{item_id}", source="/conveyor/pipelines")

    async def update(self, item_id: str, type_id: str, changes: dict[str, dict[str, Any]]) -> None:
        updated = entities.ItemUpdated(item_id=item_id, entity_type_id=type_id, changes=changes, updated_by="manager-1")
        await self.publish(updated, subject=item_id)

    # ------------------------------------------------------------ what the service did

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        assert self.app is not None
        rows = await self.app.state.pool.fetch(sql, *args)
        return [dict(row) for row in rows]

    async def commands(self, type_name: str) -> list[dict[str, Any]]:
        """Commands this service sent (its outbox), oldest first."""
        rows = await self.fetch(
            "SELECT data::text AS data FROM events WHERE type = $1 AND tenant_id = $2 ORDER BY position",
            type_name,
            self.tenant,
        )
        return [json.loads(row["data"]) for row in rows]

    async def copy_of(self, item_id: str) -> dict[str, Any] | None:
        rows = await self.fetch(
            "SELECT * FROM automation_items WHERE tenant_id = $1 AND item_id = $2", self.tenant, item_id
        )
        return rows[0] if rows else None

    async def eventually(self, probe: Callable[[], Awaitable[Any]], accept: Callable[[Any], bool]) -> Any:
        return await eventually(probe, accept)

    async def visits_settled(self, item_ids: list[str], stage_id: str) -> None:
        """Wait until the copies show every item on ``stage_id``."""

        async def on_stage() -> int:
            rows = await self.fetch(
                "SELECT count(*) AS n FROM automation_items"
                " WHERE tenant_id = $1 AND item_id = ANY($2) AND stage_id = $3",
                self.tenant, item_ids, stage_id,
            )  # fmt: skip
            return int(rows[0]["n"])

        await eventually(on_stage, lambda n: n == len(item_ids))

    # ------------------------------------------------------------ lifecycle

    @asynccontextmanager
    async def running(self, suffix: str, kafka: str) -> AsyncIterator[Automation]:
        settings = Settings(
            database_url=self.database, kafka_bootstrap_servers=kafka, environment="test", jwt_secret=SECRET,
            consumer_group_suffix=suffix, test_clock_enabled=True,
        )  # fmt: skip
        app = create(settings)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://automation.test") as client,
        ):
            self.app, self.client = app, client
            app.state.clock.set(self.now)
            try:
                yield self
            finally:
                self.app, self.client = None, None


@pytest.fixture
async def automation_harness(fresh_database: str, infra: Any) -> AsyncIterator[tuple[Automation, Callable[[], Any]]]:
    """An Automation not yet running, and ``restart()``: a context manager running the app (again) on
    the same database and consumer groups, as a restarted service would."""
    await upgrade_in_thread(MIGRATIONS_PATH, fresh_database)
    suffix = f".test-{uuid.uuid4().hex[:8]}"
    for sub in SUBSCRIPTIONS:
        await start_groups_at_end(infra.kafka_bootstrap, {f"automation.{sub.name}{suffix}": sub.topics})
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all")
    await producer.start()
    harness = Automation(database=fresh_database, producer=producer, tenant=f"tenant-{uuid.uuid4().hex[:8]}")
    try:
        yield harness, lambda: harness.running(suffix, infra.kafka_bootstrap)
    finally:
        await producer.stop()


@pytest.fixture
async def automation(automation_harness: tuple[Automation, Callable[[], Any]]) -> AsyncIterator[Automation]:
    harness, run = automation_harness
    async with run():
        yield harness
