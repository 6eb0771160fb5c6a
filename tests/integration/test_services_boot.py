"""Every service migrates a fresh database with its own command, then serves authenticated HTTP."""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_kit.tokens import mint_token
from fastapi import FastAPI

pytestmark = pytest.mark.integration

SERVICES = ["entities", "pipelines", "automation", "notifications", "reporting"]
SECRET = "integration-test-secret-long-enough-for-hs256"
BACKBONE_TABLES = {"event_streams", "events", "relay_checkpoints", "processed_events"}


@dataclass(frozen=True)
class Service:
    name: str
    settings_cls: Any
    create: Any
    migrations_path: Path

    @property
    def prefix(self) -> str:
        return f"{self.name.upper()}_"


def service(name: str) -> Service:
    return Service(
        name=name,
        settings_cls=importlib.import_module(f"{name}.config").Settings,
        create=importlib.import_module(f"{name}.entrypoints.http").create,
        migrations_path=importlib.import_module(f"{name}.migrations").MIGRATIONS_PATH,
    )


async def migrate_with_the_command(svc: Service, database_url: str) -> None:
    """Runs `python -m <service> migrate` as an operator would."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        svc.name,
        "migrate",
        env={**os.environ, f"{svc.prefix}DATABASE_URL": database_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode == 0, output.decode()


async def table_names(database_url: str) -> set[str]:
    connection = await asyncpg.connect(database_url)
    try:
        rows = await connection.fetch("select tablename from pg_tables where schemaname = 'public'")
        return {row["tablename"] for row in rows}
    finally:
        await connection.close()


@pytest.fixture(params=SERVICES)
def svc(request: pytest.FixtureRequest) -> Service:
    return service(request.param)


@pytest.fixture
async def migrated_database(svc: Service, fresh_database: str) -> str:
    # In-process, the same code path as the command without a second interpreter's start-up.
    await upgrade_in_thread(svc.migrations_path, fresh_database)
    return fresh_database


@pytest.fixture
async def api(svc: Service, migrated_database: str, infra: Any) -> AsyncIterator[httpx.AsyncClient]:
    settings = svc.settings_cls(
        database_url=migrated_database,
        kafka_bootstrap_servers=infra.kafka_bootstrap,
        environment="test",
        jwt_secret=SECRET,
    )
    app: FastAPI = svc.create(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url=f"http://{svc.name}.test") as client,
    ):
        yield client


def bearer(tenant: str, user: str = "user-1", roles: tuple[str, ...] = ("manager",)) -> dict[str, str]:
    token = mint_token(tenant_id=tenant, user_id=user, roles=roles, secret=SECRET)
    return {"Authorization": f"Bearer {token}"}


class TestServiceBoot:
    async def test_the_migrate_command_creates_the_backbone_and_is_repeatable(
        self, svc: Service, fresh_database: str
    ) -> None:
        await migrate_with_the_command(svc, fresh_database)
        await migrate_with_the_command(svc, fresh_database)

        assert BACKBONE_TABLES | {"alembic_version"} <= await table_names(fresh_database)

    async def test_the_migrated_service_is_ready(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/health/ready")

        assert response.status_code == 200, response.text

    async def test_whoami_answers_for_the_tokens_tenant(self, api: httpx.AsyncClient) -> None:
        tenant_a = await api.get("/v1/whoami", headers=bearer("tenant-a", roles=("admin",)))
        tenant_b = await api.get("/v1/whoami", headers=bearer("tenant-b", user="user-2"))

        assert tenant_a.status_code == 200
        assert tenant_a.json() == {"tenant_id": "tenant-a", "user_id": "user-1", "roles": ["admin"]}
        assert tenant_b.json()["tenant_id"] == "tenant-b"

    async def test_whoami_without_a_token_is_401(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/v1/whoami")

        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"

    async def test_readiness_reports_the_running_relay(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/health/ready")

        workers = response.json()["checks"]["workers"]
        assert workers["status"] == "up", workers
        assert any(name.endswith("-relay") for name in workers["workers"])


class TestTopicsCommand:
    async def test_it_creates_what_the_service_publishes_and_consumes_and_its_dead_letters(
        self, svc: Service, infra: Any
    ) -> None:
        from aiokafka.admin import AIOKafkaAdminClient
        from conveyor_messaging.topics import consumers_of, service_topics

        routing = importlib.import_module(f"{svc.name}.routing")
        consumers = {**consumers_of(routing.SUBSCRIPTIONS), **getattr(routing, "BATCH_CONSUMERS", {})}
        suffix = f".t{uuid.uuid4().hex[:8]}"  # dead-letter topics no other test has made
        wanted = {plan.name for plan in service_topics(svc.name, consumers, group_suffix=suffix)}
        dead_letters = {f"conveyor.deadletter.{svc.name}.{name}{suffix}" for name in consumers}
        assert dead_letters < wanted

        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", svc.name, "topics", "--partitions", "1",
            env={**os.environ, "KAFKA_BOOTSTRAP_SERVERS": infra.kafka_bootstrap,
                 f"{svc.prefix}CONSUMER_GROUP_SUFFIX": suffix},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await process.communicate()
        assert process.returncode == 0, output.decode()
        admin = AIOKafkaAdminClient(bootstrap_servers=infra.kafka_bootstrap)
        await admin.start()
        try:
            assert wanted <= set(await admin.list_topics())
            for name in dead_letters:
                assert f"created {name}" in output.decode()
            await admin.delete_topics(sorted(dead_letters))
        finally:
            await admin.close()

    def test_a_service_with_contracts_publishes_their_topics(self, svc: Service) -> None:
        from conveyor_messaging.topics import service_topics

        importlib.import_module(f"{svc.name}.entrypoints.http")  # the service's own contracts, registered
        published = [p.name for p in service_topics(svc.name, {}) if p.name.startswith(f"conveyor.{svc.name}.")]
        if svc.name == "reporting":
            assert published == []  # reporting only reads
        else:
            assert published, f"{svc.name} publishes nothing?"


class TestServiceBackbone:
    async def test_an_event_the_service_appends_reaches_kafka_through_its_relay(
        self, svc: Service, migrated_database: str, infra: Any
    ) -> None:
        from conveyor_messaging.actor import Actor
        from conveyor_messaging.eventstore import NO_STREAM, NewEvent

        settings = svc.settings_cls(
            database_url=migrated_database, kafka_bootstrap_servers=infra.kafka_bootstrap, environment="test"
        )
        app: FastAPI = svc.create(settings)
        stream = f"probe-{uuid.uuid4().hex}"
        topic = f"conveyor.{svc.name}.probe"
        async with app.router.lifespan_context(app):
            backbone = app.state.backbone
            async with app.state.pool.acquire() as conn:
                (recorded,) = await backbone.store.append(
                    conn,
                    stream_id=stream,
                    tenant_id="tenant-a",
                    aggregate_type="probe",
                    expected_version=NO_STREAM,
                    events=[NewEvent(f"conveyor.{svc.name}.probe.recorded.v1", {"ok": True})],
                    actor=Actor.system("test"),
                )
            received = await first_record_of_stream(infra.kafka_bootstrap, topic, stream)

        headers = dict(received.headers)
        assert headers["ce_id"].decode() == str(recorded.event_id)
        assert headers["ce_source"] == f"/conveyor/{svc.name}".encode()
        assert headers["ce_tenantid"] == b"tenant-a"


async def first_record_of_stream(bootstrap: str, topic: str, stream: str, within: float = 30.0) -> Any:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    try:
        async with asyncio.timeout(within):
            async for record in consumer:
                if record.key == stream.encode():
                    return record
    finally:
        await consumer.stop()
