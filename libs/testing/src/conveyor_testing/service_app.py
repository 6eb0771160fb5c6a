"""One service app in-process for a test: its own database, consumer groups and an HTTP client."""

from __future__ import annotations

import contextlib
import importlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from conveyor_testing.kafka import start_groups_at_end
from conveyor_testing.services import consumer_groups


@dataclass(frozen=True)
class RunningApp:
    """The app with its lifespan running, a client over ASGI, and a producer for playing peers."""

    app: FastAPI
    client: httpx.AsyncClient
    producer: AIOKafkaProducer


@contextlib.asynccontextmanager
async def service_app(
    service: str, *, database_url: str, kafka_bootstrap: str, **settings: Any
) -> AsyncIterator[RunningApp]:
    """Migrate ``database_url``, start the service's consumer groups (suffixed for this test) at the
    end of their topics, and run its app with its workers; ``settings`` override the rest."""
    from conveyor_kit.migrations import upgrade_in_thread

    settings_cls = importlib.import_module(f"{service}.config").Settings
    create = importlib.import_module(f"{service}.entrypoints.http").create
    migrations_path = importlib.import_module(f"{service}.migrations").MIGRATIONS_PATH

    await upgrade_in_thread(migrations_path, database_url)
    suffix = f".test-{uuid.uuid4().hex[:8]}"
    # Every group: a batch consumer (reporting's projections) left out would replay the shared topics.
    await start_groups_at_end(kafka_bootstrap, consumer_groups(service, suffix))
    app: FastAPI = create(
        settings_cls(
            database_url=database_url,
            kafka_bootstrap_servers=kafka_bootstrap,
            environment="test",
            consumer_group_suffix=suffix,
            **settings,
        )
    )
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{service}.test") as client,
        ):
            yield RunningApp(app=app, client=client, producer=producer)
    finally:
        await producer.stop()
