"""Opens what the reporting service runs on, for the app's lifetime; nothing at import."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from conveyor_kit.database import pool_on_state
from conveyor_kit.workers import backbone_on_state
from conveyor_messaging.consumer import run_consumer
from conveyor_messaging.kafka import make_consumer, make_producer
from conveyor_messaging.lanes import both_lanes
from fastapi import FastAPI

from reporting.adapters.consumer import ProjectionConsumer
from reporting.routing import PROJECTION_TOPICS, PROJECTIONS, SUBSCRIPTIONS

PROJECTIONS_GROUP = "reporting.projections"
# Events fetched together for up to this long are projected in one transaction: its 27 partitions
# fetched for nearly every event cost more than projecting them (bench/README.md, system).
PROJECTION_BATCH_WAIT_MS = 100


@asynccontextmanager
async def bootstrap(app: FastAPI) -> AsyncIterator[None]:
    """Open the database pool, the backbone (relay, directory consumer) and the projections' consumer."""
    async with pool_on_state(app), backbone_on_state(app, SUBSCRIPTIONS), projections_on_state(app):
        yield


@asynccontextmanager
async def projections_on_state(app: FastAPI) -> AsyncIterator[None]:
    """Run the batch consumer of the projections; keep it on ``app.state.projections`` for the lag check."""
    settings = app.state.settings
    app.state.projections = None
    if not settings.run_workers:
        yield
        return
    group = PROJECTIONS_GROUP + settings.consumer_group_suffix
    bootstrap_servers = settings.kafka_bootstrap_servers
    producer = make_producer(bootstrap_servers, client_id=group)
    await producer.start()
    kafka_consumer = make_consumer(
        bootstrap_servers,
        group_id=group,
        topics=both_lanes(PROJECTION_TOPICS),
        client_id=group,
        batch_wait_ms=PROJECTION_BATCH_WAIT_MS,
    )
    consumer = ProjectionConsumer(
        name=group,
        pool=app.state.pool,
        consumer=kafka_consumer,
        producer=producer,
        projections=PROJECTIONS,
        batch_size=2000,
    )
    task = asyncio.create_task(run_consumer(kafka_consumer, consumer), name=group)
    app.state.projections = consumer
    app.state.projections_task = task
    try:
        yield
    finally:
        consumer.stop()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, 10)
        with contextlib.suppress(Exception):
            await producer.stop()
