"""Robot benchmark: item moved → the robot's effect stored, end to end through Kafka.

A fresh database gets the automation service's migrations; the in-process app (wall clock, its
own consumer groups started at the end of the shared topics) has one at-once robot that sets a
field. The benchmark publishes `conveyor.pipelines.item.moved_to_stage.v1` events to Kafka as the
pipelines service would, and the effect is the UpdateItemFields command appended to the service's
outbox (its `recorded_at`). Paced phase: latency of each move at a steady rate. Burst phase: a
batch published at once; robot actions per second from the first publish to the last effect.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
import uuid
from datetime import UTC, datetime

import asyncpg
import httpx
import structlog
from _infra import drop_database, endpoints, new_database, percentile, report
from aiokafka import AIOKafkaProducer
from automation.config import Settings
from automation.entrypoints.http import create
from automation.migrations import MIGRATIONS_PATH
from automation.routing import SUBSCRIPTIONS
from conveyor_contracts.pipelines import ItemMovedToStage
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_kit.tokens import mint_token
from conveyor_messaging.actor import Actor
from conveyor_messaging.envelope import Envelope, to_kafka
from conveyor_testing.kafka import start_groups_at_end

PACED = int(os.environ.get("BENCH_ROBOTS_PACED", "300"))
RATE = float(os.environ.get("BENCH_ROBOTS_RATE", "50"))
BURST = int(os.environ.get("BENCH_ROBOTS_BURST", "2000"))
SECRET = "bench-secret-long-enough-for-hs256-tokens"
TENANT = f"bench-{uuid.uuid4().hex[:6]}"
UPDATE = "conveyor.entities.item_command.update_fields.v1"


def moved(item_id: str) -> Envelope:
    event = ItemMovedToStage(
        item_id=item_id, entity_type_id="deal", from_pipeline_id="p", from_stage_id="st-new",
        from_semantic="in_progress", to_pipeline_id="p", to_stage_id="st-proposal", to_semantic="in_progress",
        moved_at=datetime.now(UTC),
    )  # fmt: skip
    return Envelope(
        type=event.type_name, source="/conveyor/pipelines", subject=item_id, tenant_id=TENANT,
        data=event.model_dump(mode="json"), actor=Actor.user("bench"), aggregate_version=1,
    )  # fmt: skip


async def effects(pool: asyncpg.Pool) -> dict[str, datetime]:
    rows = await pool.fetch(
        "SELECT data->>'item_id' AS item_id, recorded_at FROM events WHERE type = $1 AND tenant_id = $2", UPDATE, TENANT
    )
    return {row["item_id"]: row["recorded_at"] for row in rows}


async def publish(producer: AIOKafkaProducer, item_ids: list[str], rate: float | None) -> dict[str, datetime]:
    sent: dict[str, datetime] = {}
    for item_id in item_ids:
        envelope = moved(item_id)
        key, value, headers = to_kafka(envelope)
        sent[item_id] = datetime.now(UTC)
        if rate is None:
            await producer.send(ItemMovedToStage.topic(), value=value, key=key, headers=headers)
        else:
            await producer.send_and_wait(ItemMovedToStage.topic(), value=value, key=key, headers=headers)
            await asyncio.sleep(1 / rate)
    await producer.flush()
    return sent


async def until_all(pool: asyncpg.Pool, item_ids: list[str], timeout: float = 300) -> dict[str, datetime]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await effects(pool)
        if all(item_id in found for item_id in item_ids):
            return found
        await asyncio.sleep(0.2)
    raise TimeoutError("not every robot ran")


async def run(dsn: str, kafka: str) -> dict[str, float | int]:
    await upgrade_in_thread(MIGRATIONS_PATH, dsn)
    suffix = f".bench-{uuid.uuid4().hex[:8]}"
    for sub in SUBSCRIPTIONS:
        await start_groups_at_end(kafka, {f"automation.{sub.name}{suffix}": sub.topics})
    settings = Settings(
        database_url=dsn, kafka_bootstrap_servers=kafka, environment="test", jwt_secret=SECRET,
        consumer_group_suffix=suffix,
    )  # fmt: skip
    app = create(settings)
    producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", linger_ms=5)
    await producer.start()
    token = mint_token(tenant_id=TENANT, user_id="admin", roles=["admin"], secret=SECRET)
    try:
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client,
        ):
            robot = {
                "pipeline_id": "p", "stage_id": "st-proposal", "name": "Mark",
                "action": {"type": "set_fields", "fields": {"status": "proposal"}},
            }  # fmt: skip
            response = await client.post("/v1/robots", json=robot, headers={"Authorization": f"Bearer {token}"})
            assert response.status_code == 201, response.text
            pool: asyncpg.Pool = app.state.pool

            paced_ids = [f"paced-{n}" for n in range(PACED)]
            sent = await publish(producer, paced_ids, RATE)
            stored = await until_all(pool, paced_ids)
            latencies = [(stored[i] - sent[i]).total_seconds() * 1000 for i in paced_ids]

            burst_ids = [f"burst-{n}" for n in range(BURST)]
            started = datetime.now(UTC)
            await publish(producer, burst_ids, None)
            stored = await until_all(pool, burst_ids)
            elapsed = (max(stored[i] for i in burst_ids) - started).total_seconds()
    finally:
        await producer.stop()
    return {
        "paced_moves": PACED,
        "paced_rate_per_s": RATE,
        "move_to_effect_p50_ms": percentile(latencies, 50),
        "move_to_effect_p99_ms": percentile(latencies, 99),
        "burst_moves": BURST,
        "robot_actions_per_s": BURST / elapsed,
    }


async def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.getLogger().setLevel(logging.WARNING)
    admin, kafka = endpoints()
    dsn = await new_database(admin, "bench_robots")
    try:
        figures = await run(dsn, kafka)
    finally:
        await drop_database(admin, dsn)
    report(
        "automation_robots",
        figures,
        {"move_to_effect_p50_ms": "≤ 150", "move_to_effect_p99_ms": "≤ 1000"},
    )


if __name__ == "__main__":
    asyncio.run(main())
