"""Stage-time analytics (seed 003): 1,000 items through "Purchase of goods" over simulated weeks,
some going back a stage; every figure of the report, its CSV, the analysts' SQL view and a rebuild
are checked against a hand computation made here from the same seeded events."""

from __future__ import annotations

import asyncio
import csv
import io
import itertools
import random
import statistics
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaProducer
from conveyor_access import OPERATOR_ROLE
from conveyor_contracts import entities, pipelines
from conveyor_kit.tokens import mint_token
from conveyor_messaging.actor import Actor
from conveyor_messaging.contracts import EventContract
from conveyor_messaging.envelope import Envelope, to_kafka

E2E_SECRET = "e2e-test-secret-long-enough-for-hs256-tokens"


pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STAGES = [
    ("Request", "Sales"),
    ("Supplier quote", "Procurement"),
    ("Approval", "Finance"),
    ("Payment", "Accounting"),
    ("Delivery", "Logistics"),
]
ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def percentile(values: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (what percentile_cont computes)."""
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def journeys(rng: random.Random, items: int) -> list[list[tuple[int, float]]]:
    """Per item: (stage index, hours after the start) of every entry; 5 = Done, 6 = Cancelled."""
    result = []
    for _ in range(items):
        at, stage, path = rng.uniform(0, 24 * 21), 0, []
        path.append((0, at))
        while stage < 5:
            at += rng.uniform(1, 24 * 4) * (1 + stage % 3)
            roll = rng.random()
            if roll < 0.05:
                stage = 6
            elif roll < 0.2 and stage > 0:
                stage -= 1
            else:
                stage += 1
            path.append((stage, at))
            if stage == 6:
                break
        result.append(path)
    return result


@pytest_asyncio.fixture(loop_scope="session")
async def reporting(service_homes: Any) -> AsyncIterator[tuple[str, str]]:
    """The reporting service under uvicorn on a free port: (base URL, database DSN)."""
    async with service_homes("reporting") as home, home.run() as service:
        yield service.base_url, home.dsn


@pytest.mark.asyncio(loop_scope="session")
async def test_stage_time_story(reporting: tuple[str, str], infra: Any) -> None:
    base_url, dsn = reporting
    tenant = f"purchase-{uuid.uuid4().hex[:8]}"
    headers = {
        "Authorization": "Bearer " + mint_token(tenant_id=tenant, user_id="boss", roles=("admin",), secret=E2E_SECRET)
    }
    type_id, pipeline_id = f"purchase-{tenant}", f"pipe-{tenant}"
    names = [n for n, _ in STAGES] + ["Done", "Cancelled"]
    semantics = ["in_progress"] * 5 + ["success", "failure"]
    stage_ids = [f"s{i}-{tenant}" for i in range(7)]
    paths = journeys(random.Random(3), 1000)

    # 1-2. the pipeline and 1,000 items moving through it, as the other services would tell it
    producer = AIOKafkaProducer(bootstrap_servers=infra.kafka_bootstrap, acks="all", linger_ms=20)
    await producer.start()

    async def publish(event: EventContract, subject: str, at: datetime) -> None:
        env = Envelope(
            type=event.type_name,
            source="/conveyor/pipelines",
            subject=subject,
            tenant_id=tenant,
            data=event.model_dump(mode="json"),
            actor=Actor.user("boss"),
            time=at,
        )
        key, value, hdrs = to_kafka(env)
        await producer.send(event.topic(), value=value, key=key, headers=hdrs)

    try:
        infos = [
            pipelines.StageInfo(stage_id=stage_ids[i], name=names[i], color="#000", sort=i, semantic=semantics[i])
            for i in range(7)
        ]
        await publish(
            pipelines.PipelineCreated(
                pipeline_id=pipeline_id,
                entity_type_id=type_id,
                name="Purchase of goods",
                sort=0,
                is_default=True,
                stages=infos,
            ),
            pipeline_id,
            START,
        )
        async with httpx.AsyncClient(timeout=30) as http:
            for i, (_, department) in enumerate(STAGES):
                r = await http.put(
                    f"{base_url}/v1/stage-departments/{stage_ids[i]}", json={"department": department}, headers=headers
                )
                assert r.status_code == 200, r.text
        for n, path in enumerate(paths):
            item_id = f"item-{n}-{tenant}"
            first_at = START + timedelta(hours=path[0][1])
            await publish(
                entities.ItemCreated(
                    item_id=item_id,
                    entity_type_id=type_id,
                    title=f"Purchase {n}",
                    assignee_id="buyer",
                    created_by="boss",
                ),
                item_id,
                first_at,
            )
            await publish(
                pipelines.ItemPlaced(
                    item_id=item_id,
                    entity_type_id=type_id,
                    pipeline_id=pipeline_id,
                    stage_id=stage_ids[0],
                    stage_semantic="in_progress",
                ),
                item_id,
                first_at,
            )
            for (came_from, _), (stage, hours) in itertools.pairwise(path):
                at = START + timedelta(hours=hours)
                await publish(
                    pipelines.ItemMovedToStage(
                        item_id=item_id,
                        entity_type_id=type_id,
                        from_pipeline_id=pipeline_id,
                        from_stage_id=stage_ids[came_from],
                        from_semantic="in_progress",
                        to_pipeline_id=pipeline_id,
                        to_stage_id=stage_ids[stage],
                        to_semantic=semantics[stage],
                        moved_by="user:boss",
                        moved_at=at,
                    ),
                    item_id,
                    at,
                )
        await producer.flush()
    finally:
        await producer.stop()

    # the hand computation: every visit of a stage, returns included, lasts until the next entry
    durations: dict[int, list[float]] = {i: [] for i in range(5)}
    visitors: dict[int, set[int]] = {i: set() for i in range(5)}
    for n, path in enumerate(paths):
        for (stage, entered), (_, left) in itertools.pairwise(path):
            durations[stage].append((left - entered) * 3600)
            visitors[stage].add(n)
    expected = {
        names[i]: {
            "visits": len(d),
            "items": len(visitors[i]),
            "mean_s": statistics.fmean(d),
            "median_s": percentile(d, 0.5),
            "p90_s": percentile(d, 0.9),
            "total_s": sum(d),
        }
        for i, d in durations.items()
    }
    bottleneck = max(expected, key=lambda s: expected[s]["median_s"])
    visits_total = sum(len(d) for d in durations.values())
    params = {"pipeline_id": pipeline_id, "from": "2026-01-01", "to": "2026-12-31"}

    async with httpx.AsyncClient(timeout=60) as http:

        async def report() -> dict[str, Any]:
            r = await http.get(f"{base_url}/v1/reports/stage-time", params=params, headers=headers)
            assert r.status_code == 200, r.text
            result: dict[str, Any] = r.json()
            return result

        deadline = asyncio.get_running_loop().time() + 120
        body = await report()
        while sum(r["visits"] for r in body["rows"]) < visits_total:
            assert asyncio.get_running_loop().time() < deadline, "the projections never caught up"
            await asyncio.sleep(0.5)
            body = await report()

        # 3. per stage, per department, the bottleneck
        rows = {r["stage"]: r for r in body["rows"]}
        for name, figures in expected.items():
            for key, value in figures.items():
                assert rows[name][key] == pytest.approx(value, rel=1e-9), (name, key)
        assert {d["department"]: d["total_s"] for d in body["departments"]} == pytest.approx(
            {dep: expected[name]["total_s"] for name, dep in STAGES}, rel=1e-9
        )
        assert body["bottleneck_stage_id"] == stage_ids[names.index(bottleneck)]

        # 4. the same figures as CSV and through the analysts' view
        text = (
            await http.get(f"{base_url}/v1/reports/stage-time", params={**params, "format": "csv"}, headers=headers)
        ).text
        by_csv = {row["stage"]: row for row in csv.DictReader(io.StringIO(text))}
        for name, figures in expected.items():
            assert float(by_csv[name]["total_s"]) == pytest.approx(figures["total_s"], rel=1e-9)
            assert int(by_csv[name]["visits"]) == figures["visits"]
        conn = await asyncpg.connect(dsn)
        try:
            viewed = {
                r["stage"]: r
                for r in await conn.fetch(
                    "SELECT * FROM reporting.stage_time WHERE tenant_id = $1 AND pipeline_id = $2", tenant, pipeline_id
                )
            }
            example = (ROOT / "docs" / "analysts" / "stage_time.sql").read_text()
            example = example.replace(":'tenant'", "$1").replace(":'pipeline'", "$2")
            in_hours = {r["stage"]: r for r in await conn.fetch(example, tenant, pipeline_id)}
        finally:
            await conn.close()
        assert list(in_hours)[:5] == [n for n, _ in STAGES]
        for name, figures in expected.items():
            assert float(in_hours[name]["total_h"]) == pytest.approx(figures["total_s"] / 3600, abs=0.01)
            assert viewed[name]["median_s"] == pytest.approx(figures["median_s"], rel=1e-9)
            assert viewed[name]["department"] == dict(STAGES)[name]

        # 5. rebuilding from the log gives exactly the same figures
        operator = mint_token(tenant_id=tenant, user_id="ops", roles=(OPERATOR_ROLE,), secret=E2E_SECRET)
        refused = await http.post(f"{base_url}/v1/rebuild", headers=headers)  # the tenant's admin
        assert refused.status_code == 403, refused.text
        rebuilt = await http.post(f"{base_url}/v1/rebuild", headers={"Authorization": f"Bearer {operator}"})
        assert rebuilt.status_code == 200, rebuilt.text
        assert await report() == body
