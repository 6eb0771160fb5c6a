"""Board benchmark: the first page of a 100,000-item pipeline through the pipelines API.

A fresh database gets the service's migrations, one pipeline of four stages and 100,000 items
loaded with COPY; then the in-process app (no workers) answers `GET /v1/pipelines/{id}/board`
repeatedly: per column the count, the amount sum and the first 20 cards.
"""

from __future__ import annotations

import asyncio
import os
import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import asyncpg
import httpx
from _infra import drop_database, endpoints, new_database, percentile, report
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_kit.tokens import mint_token
from pipelines.adapters import board_counts
from pipelines.config import Settings
from pipelines.entrypoints.http import create
from pipelines.migrations import MIGRATIONS_PATH

ITEMS = int(os.environ.get("BENCH_BOARD_ITEMS", "100000"))
REQUESTS = int(os.environ.get("BENCH_BOARD_REQUESTS", "200"))
TENANT, TYPE, PIPELINE = "bench", "deal", "pipe-1"
STAGES = [("st-new", "New", "in_progress", 0.4), ("st-work", "In progress", "in_progress", 0.3),
          ("st-won", "Won", "success", 0.2), ("st-lost", "Lost", "failure", 0.1)]  # fmt: skip
SECRET = "bench-secret-long-enough-for-hs256-tokens"


async def load(dsn: str) -> None:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("INSERT INTO entity_types VALUES ($1, $2, 'Deal', true)", TENANT, TYPE)
        await conn.execute(
            "INSERT INTO pipelines (tenant_id, pipeline_id, entity_type_id, name, sort, is_default)"
            " VALUES ($1, $2, $3, 'Sales', 10, true)",
            TENANT,
            PIPELINE,
            TYPE,
        )
        for n, (stage_id, name, semantic, _) in enumerate(STAGES):
            await conn.execute(
                "INSERT INTO stages VALUES ($1, $2, $3, $4, '#39a8ef', $5, $6, false)",
                TENANT,
                stage_id,
                PIPELINE,
                name,
                n * 10,
                semantic,
            )
        rng = random.Random(7)
        start = datetime(2026, 1, 1, tzinfo=UTC)
        weights = [s[3] for s in STAGES]
        rows = [
            (
                TENANT,
                f"item-{i:07d}",
                TYPE,
                PIPELINE,
                rng.choices(STAGES, weights)[0][0],
                f"Deal {i}",
                f"user-{rng.randrange(50)}",
                Decimal(rng.randrange(100, 100_000)) / 100,
                "EUR",
                f'{{"region": "r{rng.randrange(10)}"}}',
                1,
                start + timedelta(seconds=rng.randrange(10_000_000)),
            )
            for i in range(ITEMS)
        ]
        await conn.copy_records_to_table(
            "items",
            records=rows,
            columns=[
                "tenant_id",
                "item_id",
                "entity_type_id",
                "pipeline_id",
                "stage_id",
                "title",
                "assignee_id",
                "amount",
                "currency",
                "fields",
                "version",
                "updated_at",
            ],
        )
        # A manager's role reads their own deals (the system bench's managers read the board so).
        await conn.execute(
            "INSERT INTO directory_role_grants (tenant_id, role, entity_type_id, pipeline_id, actions, version)"
            """ VALUES ($1, 'manager', $2, '', '{"read": "own"}', 1)""",
            TENANT,
            TYPE,
        )
        # The app here runs no workers, so fold the board count changes the load wrote, as the
        # service's folder would within a second.
        await board_counts.fold(conn)
        await conn.execute("VACUUM ANALYZE items")
    finally:
        await conn.close()


async def timed(client: httpx.AsyncClient, url: str, headers: dict[str, str], params: dict[str, str]) -> list[float]:
    for _ in range(10):  # warm-up: pool connections, prepared statements, caches
        (await client.get(url, headers=headers, params=params)).raise_for_status()
    times = []
    for _ in range(REQUESTS):
        started = time.perf_counter()
        response = await client.get(url, headers=headers, params=params)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return times


async def main() -> None:
    admin_dsn, kafka = endpoints()
    dsn = await new_database(admin_dsn, "bench_board")
    try:
        await upgrade_in_thread(MIGRATIONS_PATH, dsn)
        started = time.perf_counter()
        await load(dsn)
        load_s = time.perf_counter() - started
        settings = Settings(
            database_url=dsn, kafka_bootstrap_servers=kafka, environment="test", jwt_secret=SECRET, run_workers=False
        )
        app = create(settings)
        token = mint_token(tenant_id=TENANT, user_id="admin", roles=("admin",), secret=SECRET)
        headers = {"Authorization": f"Bearer {token}"}
        url = f"/v1/pipelines/{PIPELINE}/board"
        figures: dict[str, float] = {"items": ITEMS, "load_copy_s": load_s}
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client,
        ):
            manager = mint_token(tenant_id=TENANT, user_id="user-7", roles=("manager",), secret=SECRET)
            as_manager = {"Authorization": f"Bearer {manager}"}
            cases = {
                "first_page": (headers, {}),
                "first_page_assignee_filter": (headers, {"assignee_id": "user-7"}),
                "first_page_field_filter": (headers, {"field.region": "r3"}),
                "first_page_manager_own": (as_manager, {}),  # a manager whose role reads their own deals
            }
            for name, (caller, params) in cases.items():
                times = await timed(client, url, caller, params)
                figures[f"{name}_p50_ms"] = percentile(times, 50)
                figures[f"{name}_p95_ms"] = percentile(times, 95)
        report("board", figures, {"first_page_p95_ms": "≤ 50"})
    finally:
        await drop_database(admin_dsn, dsn)


if __name__ == "__main__":
    asyncio.run(main())
