"""Reporting benchmark: ingestion into the projections, the analytics API over a large projection, rebuild.

1. Ingestion: generated item events (created, placed, moved, updated) applied in batches of 2,000 through the
   projections consumer's own transaction (``ProjectionConsumer._apply_in_one_transaction``: processed marks,
   journal, ``project``), on a fresh database; then a smaller run end to end through the real Kafka with the
   service's consumer (the in-process app with its workers, its own consumer group started at the end).
2. Queries: a fresh database gets the migrations, then ``BENCH_REPORTING_ITEMS`` items and about
   ``BENCH_REPORTING_VISITS`` stage visits loaded with COPY (indexes dropped for the load, built after it), the
   daily counters, product lines, stages, products and a directory with a department-scoped manager; then
   ``VACUUM ANALYZE``. Each analytics endpoint is called ``BENCH_REPORTING_REQUESTS`` times per viewer (admin,
   manager) with varied periods through the in-process app (no workers).
3. Rebuild: ``BENCH_REPORTING_REBUILD_EVENTS`` events are COPYed into the journal, then ``rebuild()`` replays them
   into the shadow schema and swaps it in.

``BENCH_REPORTING_PARTS`` (default ``ingest,kafka,rebuild,queries``) picks the parts.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import math
import os
import random
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

import asyncpg
import httpx
import orjson
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.structs import ConsumerRecord

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from conveyor_contracts import entities, pipelines
from conveyor_kit.database import create_pool
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_kit.tokens import mint_token
from conveyor_messaging.actor import Actor
from conveyor_messaging.contracts import topic_for
from conveyor_messaging.envelope import Envelope, to_kafka
from conveyor_testing.kafka import start_groups_at_end
from reporting.adapters.consumer import ProjectionConsumer
from reporting.adapters.rebuild import rebuild
from reporting.adapters.schema import FIELD_DURATIONS_BACKFILL
from reporting.bootstrap import PROJECTIONS_GROUP
from reporting.config import Settings
from reporting.domain.durations import bucket_of
from reporting.entrypoints.http import create
from reporting.migrations import MIGRATIONS_PATH
from reporting.routing import PROJECTION_TOPICS, PROJECTIONS, SUBSCRIPTIONS

from bench._infra import drop_database, endpoints, new_database, percentile, report

ITEMS = int(os.environ.get("BENCH_REPORTING_ITEMS", "1000000"))
VISITS = int(os.environ.get("BENCH_REPORTING_VISITS", "10000000"))
REQUESTS = int(os.environ.get("BENCH_REPORTING_REQUESTS", "60"))
INGEST_EVENTS = int(os.environ.get("BENCH_REPORTING_INGEST_EVENTS", "200000"))
KAFKA_EVENTS = int(os.environ.get("BENCH_REPORTING_KAFKA_EVENTS", "50000"))
REBUILD_EVENTS = int(os.environ.get("BENCH_REPORTING_REBUILD_EVENTS", "1000000"))
PARTS = os.environ.get("BENCH_REPORTING_PARTS", "ingest,kafka,rebuild,queries").split(",")
# A database name for the queries part: loaded once and kept (reused, after migrating it, when it holds items).
KEEP = os.environ.get("BENCH_REPORTING_DATABASE", "")
BATCH = 2000  # the projections consumer's batch size (reporting.bootstrap)
SECRET = "bench-secret-long-enough-for-hs256-tokens"
MAIN = "acme"
SMALL_TENANTS = ["small-1", "small-2", "small-3", "small-4"]
ASSIGNEES = 150  # of the main tenant, in 10 departments of 15
MANAGER_DEPARTMENT = "dep-3"
PRODUCTS = 200


@dataclass(frozen=True, slots=True)
class Stage:
    stage_id: str
    name: str
    semantic: str


def pipeline_stages(pipeline_id: str, in_progress: int) -> list[Stage]:
    stages = [Stage(f"{pipeline_id}-s{n}", f"Step {n + 1}", "in_progress") for n in range(in_progress)]
    return [*stages, Stage(f"{pipeline_id}-won", "Won", "success"), Stage(f"{pipeline_id}-lost", "Lost", "failure")]


# (pipeline id, in-progress stages, share of the tenant's deals)
MAIN_PIPELINES = [("sales", 6, 0.6), ("partners", 4, 0.3), ("tenders", 8, 0.1)]
PIPELINES = {
    tenant: [(f"{tenant}-{p}", pipeline_stages(f"{tenant}-{p}", n), w) for p, n, w in MAIN_PIPELINES]
    for tenant in [MAIN]
}
for _small in SMALL_TENANTS:
    PIPELINES[_small] = [(f"{_small}-sales", pipeline_stages(f"{_small}-sales", 5), 1.0)]


def walk(rng: random.Random, stages: list[Stage], visits: int) -> list[Stage]:
    """A path of ``visits`` stage entries: mostly forward, some returns, maybe ending won or lost."""
    progress = [s for s in stages if s.semantic == "in_progress"]
    won, lost = stages[-2], stages[-1]
    pos, path = 0, [progress[0]]
    for n in range(1, visits):
        if n == visits - 1 and rng.random() < 0.75:
            path.append(won if rng.random() < 0.6 else lost)
            break
        if pos == len(progress) - 1 or (pos > 0 and rng.random() < 0.3):
            pos -= 1  # a return: a new visit to an earlier stage
        else:
            pos += 1
        path.append(progress[pos])
    return path


def stay_seconds(rng: random.Random) -> float:
    """Time on a stage: log-normal around 6 hours, from minutes to weeks."""
    return min(math.exp(rng.gauss(math.log(6 * 3600), 1.3)), 60 * 86400)


# ---------------------------------------------------------------- event streams (ingestion, Kafka, rebuild)


def catalogue_events(tenant: str, at: datetime) -> list[Envelope]:
    events = [
        Envelope(
            type=entities.EntityTypeCreated.type_name,
            source="/conveyor/entities",
            subject="deal",
            tenant_id=tenant,
            data={"entity_type_id": "deal", "code": "deal", "name": "Deal", "settings": {}},
            actor=Actor.user("admin"),
            time=at,
        )
    ]
    lists = {"region": [f"r{n}" for n in range(10)], "source": ["web", "phone", "referral"]}
    for code, options in lists.items():  # list fields: the projections follow how long deals hold each value
        events.append(
            Envelope(
                type=entities.FieldAdded.type_name,
                source="/conveyor/entities",
                subject="deal",
                tenant_id=tenant,
                data={
                    "entity_type_id": "deal",
                    "field": {
                        "field_id": f"deal-{code}",
                        "code": code,
                        "label": code.title(),
                        "kind": "list",
                        "options": [{"id": o, "label": o, "hidden": False} for o in options],
                    },
                },
                actor=Actor.user("admin"),
                time=at,
            )
        )
    for pipeline_id, stages, _ in PIPELINES[MAIN]:
        infos = [
            {
                "stage_id": s.stage_id,
                "name": s.name,
                "color": "#39a8ef",
                "sort": n * 10,
                "semantic": s.semantic,
                "hidden": False,
            }
            for n, s in enumerate(stages)
        ]
        events.append(
            Envelope(
                type=pipelines.PipelineCreated.type_name,
                source="/conveyor/pipelines",
                subject=pipeline_id,
                tenant_id=tenant,
                data={
                    "pipeline_id": pipeline_id,
                    "entity_type_id": "deal",
                    "name": pipeline_id,
                    "sort": 10,
                    "is_default": pipeline_id.endswith("sales"),
                    "stages": infos,
                },
                actor=Actor.user("admin"),
                time=at,
            )
        )
    return events


def lifecycle(rng: random.Random, tenant: str, n: int, seed: int, start: datetime) -> list[tuple[str, Envelope]]:
    """One item's events: created, placed, moved along a walk of its pipeline, sometimes updated."""
    item_topic, pipeline_topic = entities.ItemCreated.topic(), pipelines.ItemPlaced.topic()
    item_id = f"{tenant}-i{seed}-{n}"
    pipeline_id, stages, _ = rng.choices(PIPELINES[MAIN], [p[2] for p in PIPELINES[MAIN]])[0]
    assignee = f"user-{rng.randrange(ASSIGNEES)}"
    at = start + timedelta(seconds=n * 7)
    amount = f"{rng.randrange(100, 1_000_000) / 100:.2f}"
    own: list[tuple[str, Envelope]] = []

    def add(topic: str, type_name: str, data: dict[str, Any], when: datetime, version: int) -> None:
        own.append(
            (
                topic,
                Envelope(
                    type=type_name,
                    source="/conveyor/bench",
                    subject=item_id,
                    tenant_id=tenant,
                    data=data,
                    actor=Actor.user(assignee),
                    aggregate_version=version,
                    time=when,
                ),
            )
        )

    add(
        item_topic,
        entities.ItemCreated.type_name,
        {
            "item_id": item_id,
            "entity_type_id": "deal",
            "title": f"Deal {n}",
            "assignee_id": assignee,
            "observer_ids": [],
            "amount": amount,
            "currency": "EUR",
            "fields": {"region": f"r{rng.randrange(10)}", "source": rng.choice(["web", "phone", "referral"])},
            "requested_pipeline_id": pipeline_id,
            "requested_stage_id": None,
            "created_by": f"user:{assignee}",
            "begin_date": None,
            "close_date": None,
            "source": None,
            "client_id": None,
        },
        at,
        1,
    )
    path = walk(rng, stages, 1 + rng.randrange(7))
    add(
        pipeline_topic,
        pipelines.ItemPlaced.type_name,
        {
            "item_id": item_id,
            "entity_type_id": "deal",
            "pipeline_id": pipeline_id,
            "stage_id": path[0].stage_id,
            "stage_semantic": path[0].semantic,
        },
        at,
        1,
    )
    for v, (previous, stage) in enumerate(itertools.pairwise(path)):
        at += timedelta(seconds=stay_seconds(rng))
        add(
            pipeline_topic,
            pipelines.ItemMovedToStage.type_name,
            {
                "item_id": item_id,
                "entity_type_id": "deal",
                "from_pipeline_id": pipeline_id,
                "from_stage_id": previous.stage_id,
                "from_semantic": previous.semantic,
                "to_pipeline_id": pipeline_id,
                "to_stage_id": stage.stage_id,
                "to_semantic": stage.semantic,
                "moved_by": f"user:{assignee}",
                "moved_at": at.isoformat(),
                "tunnel_id": None,
            },
            at,
            v + 2,
        )
        if rng.random() < 0.2:
            add(
                item_topic,
                entities.ItemUpdated.type_name,
                {
                    "item_id": item_id,
                    "entity_type_id": "deal",
                    "updated_by": f"user:{assignee}",
                    "changes": {
                        "amount": {"old": amount, "new": f"{rng.randrange(100, 10**6) / 100:.2f}"},
                        "fields.region": {"old": None, "new": f"r{rng.randrange(10)}"},
                    },
                },
                at,
                2,
            )
    return own


def item_events(tenant: str, count: int, seed: int, start: datetime) -> Iterator[tuple[str, Envelope]]:
    """``(topic, event)`` of about ``count`` events: items created, placed, moved (with returns) and updated,
    a thousand items at a time interleaved the way many users' work interleaves."""
    rng = random.Random(seed)
    produced, n = 0, 0
    while produced < count:
        wave = [lifecycle(rng, tenant, n + k, seed, start) for k in range(1000)]
        n += 1000
        for step in range(max(len(w) for w in wave)):
            for own_events in wave:
                if step < len(own_events) and produced < count:
                    produced += 1
                    yield own_events[step]


# ---------------------------------------------------------------- 1. ingestion through the consumer's transaction


def as_fetch(batch: list[tuple[str, Envelope]]) -> list[tuple[ConsumerRecord[bytes, bytes], Envelope]]:
    """A batch as a Kafka fetch hands it over: grouped by topic (partition), in order within each."""
    ordered = sorted(enumerate(batch), key=lambda e: (e[1][0], e[0]))
    return [
        (ConsumerRecord(topic, 0, n, 0, 0, None, None, None, 0, 0, ()), event)
        for n, (_, (topic, event)) in enumerate(ordered)
    ]


async def ingestion(admin_dsn: str, kafka: str) -> dict[str, float]:
    dsn = await new_database(admin_dsn, "bench_reporting_ingest")
    try:
        await upgrade_in_thread(MIGRATIONS_PATH, dsn)
        settings = Settings(database_url=dsn, kafka_bootstrap_servers=kafka, environment="test", jwt_secret=SECRET)
        pool = await create_pool(settings)
        try:
            consumer = ProjectionConsumer(
                name=PROJECTIONS_GROUP,
                pool=pool,
                consumer=cast(Any, None),
                producer=cast(Any, None),
                projections=PROJECTIONS,
                batch_size=BATCH,
            )
            start = datetime.now(UTC) - timedelta(days=400)
            await consumer._apply_in_one_transaction(
                as_fetch([(topic_for(e.type), e) for e in catalogue_events(MAIN, start)])
            )
            stream = list(item_events(MAIN, INGEST_EVENTS, 1, start))
            batches = [as_fetch(stream[i : i + BATCH]) for i in range(0, len(stream), BATCH)]
            kinds = Counter(e.type.rsplit(".", 2)[-2] for _, e in stream)
            started = time.perf_counter()
            latencies = []
            for fetch in batches:
                began = time.perf_counter()
                await consumer._apply_in_one_transaction(fetch)
                latencies.append((time.perf_counter() - began) * 1000)
            seconds = time.perf_counter() - started
            async with pool.acquire() as conn:
                visits = await conn.fetchval("SELECT count(*) FROM projection.stage_visits")
                items = await conn.fetchval("SELECT count(*) FROM projection.items")
        finally:
            await pool.close()
        print(f"ingestion: {len(stream):,} events ({dict(kinds)}) → {items:,} items, {visits:,} visits")
        return {
            "ingest_events": len(stream),
            "ingest_events_per_s": len(stream) / seconds,
            "ingest_batch_p50_ms": percentile(latencies, 50),
            "ingest_batch_p95_ms": percentile(latencies, 95),
        }
    finally:
        await drop_database(admin_dsn, dsn)


async def ingestion_through_kafka(admin_dsn: str, kafka: str) -> dict[str, float]:
    """The service's consumer in the in-process app, after KAFKA_EVENTS events were produced to the real topics."""
    dsn = await new_database(admin_dsn, "bench_reporting_kafka")
    suffix = f".bench-{uuid.uuid4().hex[:8]}"
    tenant = f"bench-{uuid.uuid4().hex[:8]}"
    try:
        await upgrade_in_thread(MIGRATIONS_PATH, dsn)
        groups: dict[str, list[str]] = {f"reporting.{s.name}{suffix}": list(s.topics) for s in SUBSCRIPTIONS}
        groups[PROJECTIONS_GROUP + suffix] = PROJECTION_TOPICS
        await start_groups_at_end(kafka, dict(groups))
        producer = AIOKafkaProducer(bootstrap_servers=kafka, acks="all", linger_ms=5, max_batch_size=256 * 1024)
        await producer.start()
        try:
            start = datetime.now(UTC) - timedelta(days=400)
            stream = [(topic_for(e.type), e) for e in catalogue_events(tenant, start)]
            stream += list(item_events(tenant, KAFKA_EVENTS, 2, start))
            for topic, event in stream:
                key, value, headers = to_kafka(event)
                await producer.send(topic, value=value, key=key, headers=headers)
            await producer.flush()
        finally:
            await producer.stop()
        settings = Settings(
            database_url=dsn,
            kafka_bootstrap_servers=kafka,
            environment="test",
            jwt_secret=SECRET,
            consumer_group_suffix=suffix,
            log_level="WARNING",
        )
        app = create(settings)
        conn = await asyncpg.connect(dsn)
        try:
            async with app.router.lifespan_context(app):
                opened = time.perf_counter()
                first_at, first_count, count = 0.0, 0, 0
                deadline = opened + 600
                while count < len(stream) and time.perf_counter() < deadline:
                    count = await conn.fetchval("SELECT count(*) FROM journal WHERE tenant_id = $1", tenant)
                    if count and not first_at:
                        first_at, first_count = time.perf_counter(), count
                    await asyncio.sleep(0.05)
                done = time.perf_counter()
        finally:
            await conn.close()
        if count < len(stream):
            print(f"kafka: only {count:,} of {len(stream):,} events arrived")
        return {
            "kafka_events": len(stream),
            "kafka_events_per_s": (count - first_count) / (done - first_at) if done > first_at else float("nan"),
            "kafka_catch_up_incl_group_join_s": done - opened,
        }
    finally:
        await drop_database(admin_dsn, dsn)


# ---------------------------------------------------------------- 3. rebuild


async def rebuild_figures(admin_dsn: str, kafka: str) -> dict[str, float]:
    dsn = await new_database(admin_dsn, "bench_reporting_rebuild")
    try:
        await upgrade_in_thread(MIGRATIONS_PATH, dsn)
        start = datetime.now(UTC) - timedelta(days=400)
        conn = await asyncpg.connect(dsn)
        try:
            began = time.perf_counter()
            events = [(topic_for(e.type), e) for e in catalogue_events(MAIN, start)]
            rows: list[tuple[Any, ...]] = []
            total = 0
            # in the order the consumer journals them: per fetch of BATCH events, grouped by topic
            stream = [*events, *item_events(MAIN, REBUILD_EVENTS, 3, start)]
            fetches = (as_fetch(stream[i : i + BATCH]) for i in range(0, len(stream), BATCH))
            for record, e in itertools.chain.from_iterable(fetches):
                topic = record.topic
                rows.append(
                    (
                        e.id,
                        topic,
                        e.type,
                        e.tenant_id,
                        e.subject,
                        e.time,
                        str(e.actor),
                        e.aggregate_version,
                        orjson.dumps(e.data).decode(),
                    )
                )
                if len(rows) == 100_000:
                    await copy_journal(conn, rows)
                    total, rows = total + len(rows), []
            await copy_journal(conn, rows)
            total += len(rows)
            await conn.execute("VACUUM ANALYZE journal")
            load_s = time.perf_counter() - began
        finally:
            await conn.close()
        settings = Settings(database_url=dsn, kafka_bootstrap_servers=kafka, environment="test", jwt_secret=SECRET)
        pool = await create_pool(settings)
        try:
            began = time.perf_counter()
            done = await rebuild(pool, PROJECTIONS)
            seconds = time.perf_counter() - began
            async with pool.acquire() as c:
                visits = await c.fetchval("SELECT count(*) FROM projection.stage_visits")
        finally:
            await pool.close()
        print(f"rebuild: {done['events']:,} events replayed → {visits:,} visits")
        return {
            "rebuild_events": total,
            "rebuild_journal_load_s": load_s,
            "rebuild_s": seconds,
            "rebuild_events_per_s": total / seconds,
        }
    finally:
        await drop_database(admin_dsn, dsn)


async def copy_journal(conn: asyncpg.Connection, rows: list[tuple[Any, ...]]) -> None:
    await conn.copy_records_to_table(
        "journal",
        records=rows,
        columns=["event_id", "topic", "type", "tenant_id", "subject", "time", "actor", "version", "data"],
    )


# ---------------------------------------------------------------- 2. queries over a large projection

ITEM_COLUMNS = [
    "tenant_id",
    "item_id",
    "entity_type_id",
    "title",
    "assignee_id",
    "amount",
    "currency",
    "fields",
    "pipeline_id",
    "stage_id",
    "stage_semantic",
    "stage_entered_at",
    "created_at",
    "changed_at",
    "closed_at",
    "outcome",
    "deleted",
    "product_id",
    "parent_item_id",
]
VISIT_COLUMNS = [
    "event_id",
    "tenant_id",
    "item_id",
    "entity_type_id",
    "pipeline_id",
    "stage_id",
    "entered_at",
    "left_at",
    "duration_s",
    "actor",
    "first_entry",
    "assignee_id",
]
LINE_COLUMNS = [
    "tenant_id",
    "line_item_id",
    "deal_item_id",
    "product_id",
    "name",
    "price",
    "quantity",
    "deal_entity_type_id",
    "deal_outcome",
    "deal_closed_at",
    "deal_assignee_id",
    "deal_pipeline_id",
    "deal_deleted",
]
LOADED = ["items", "stage_visits", "daily_counters", "product_lines", "stage_entries", "stage_durations"]


class Loader:
    """Generates the projection rows (items, visits, product lines, counters) and COPYs them in chunks."""

    def __init__(self, conn: asyncpg.Connection, now: datetime) -> None:
        self.conn, self.now = conn, now
        self.first = now - timedelta(days=700)
        self.rng = random.Random(11)
        self.items: list[tuple[Any, ...]] = []
        self.visits: list[tuple[Any, ...]] = []
        self.lines: list[tuple[Any, ...]] = []
        self.counters: Counter[tuple[str, date, str, str, str, str, str]] = Counter()
        self.amounts: dict[tuple[str, date, str, str, str, str, str], Decimal] = {}
        self.visit_count = 0
        # won deals of the main tenant: (item id, closed at, assignee, pipeline, binned) for their product lines
        self.deals: list[tuple[str, datetime, str, str, bool]] = []
        # what the projector keeps besides: first entries per stage and day, ended visits per duration bucket
        self.entries: Counter[tuple[str, str, date, str]] = Counter()
        self.durations: dict[tuple[str, str, date, str, int], list[float]] = {}

    async def flush(self, force: bool = False) -> None:
        if force or len(self.visits) >= 200_000 or len(self.items) >= 50_000:
            await self.conn.copy_records_to_table(
                "items", schema_name="projection", records=self.items, columns=ITEM_COLUMNS
            )
            await self.conn.copy_records_to_table(
                "stage_visits", schema_name="projection", records=self.visits, columns=VISIT_COLUMNS
            )
            self.items, self.visits = [], []

    def count(self, key: tuple[str, date, str, str, str, str, str], amount: Decimal = Decimal(0)) -> None:
        self.counters[key] += 1
        if amount:
            self.amounts[key] = self.amounts.get(key, Decimal(0)) + amount

    async def deal(self, tenant: str, n: int, visits_per_deal: float) -> None:
        rng = self.rng
        item_id = f"{tenant}-d{n}"
        pipeline_id, stages, _ = rng.choices(PIPELINES[tenant], [p[2] for p in PIPELINES[tenant]])[0]
        assignee = f"user-{rng.randrange(ASSIGNEES if tenant == MAIN else 10)}"
        created = self.first + timedelta(seconds=rng.random() * 700 * 86400)
        amount = Decimal(rng.randrange(100, 1_000_000)) / 100
        fields = orjson.dumps({"region": f"r{rng.randrange(10)}", "source": rng.choice(["web", "phone", "ref"])})
        self.count((tenant, created.date(), "deal", "", "", assignee, "created"), amount)
        path = walk(rng, stages, 1 + rng.randrange(max(1, round(2 * visits_per_deal - 1))))
        at, seen = created + timedelta(seconds=rng.randrange(1, 60)), set()
        last, entered = path[0], at
        for v, stage in enumerate(path):
            if v and at > self.now:
                break
            nxt = at + timedelta(seconds=stay_seconds(rng))
            ends = v + 1 < len(path) and nxt <= self.now
            first = stage.stage_id not in seen
            if ends:
                seconds = (nxt - at).total_seconds()
                cell = self.durations.setdefault(
                    (tenant, pipeline_id, at.date(), stage.stage_id, bucket_of(seconds)), [0, 0.0, 0]
                )
                cell[0] += 1
                cell[1] += seconds
                cell[2] += first
            self.visits.append(
                (
                    f"ev-{tenant}-{n}-{v}",
                    tenant,
                    item_id,
                    "deal",
                    pipeline_id,
                    stage.stage_id,
                    at,
                    nxt if ends else None,
                    (nxt - at).total_seconds() if ends else None,
                    f"user:{assignee}",
                    first,
                    assignee,
                )
            )
            self.visit_count += 1
            if first:
                seen.add(stage.stage_id)
                self.entries[(tenant, pipeline_id, at.date(), stage.stage_id)] += 1
                self.count((tenant, at.date(), "deal", pipeline_id, stage.stage_id, assignee, "entered"))
            if stage.semantic != "in_progress":
                metric = "won" if stage.semantic == "success" else "lost"
                self.count((tenant, at.date(), "deal", pipeline_id, "", assignee, metric), amount)
            last, entered = stage, at
            at = nxt
        closed = entered if last.semantic != "in_progress" else None
        outcome = {"success": "won", "failure": "lost"}.get(last.semantic)
        binned = rng.random() < 0.01
        self.items.append(
            (
                tenant,
                item_id,
                "deal",
                f"Deal {n}",
                assignee,
                amount,
                "EUR",
                fields.decode(),
                pipeline_id,
                last.stage_id,
                last.semantic,
                entered,
                created,
                max(created, entered),
                closed,
                outcome,
                binned,
                None,
                None,
            )
        )
        if tenant == MAIN and outcome == "won" and closed is not None:
            self.deals.append((item_id, closed, assignee, pipeline_id, binned))
        await self.flush()

    async def document(self, n: int) -> None:
        rng = self.rng
        assignee = f"user-{rng.randrange(ASSIGNEES)}"
        created = self.first + timedelta(seconds=rng.random() * 700 * 86400)
        fields = orjson.dumps({"kind": f"kind-{min(rng.randrange(8), rng.randrange(8))}", "number": f"D-{n}"})
        self.count((MAIN, created.date(), "document", "", "", assignee, "created"))
        self.items.append(
            (
                MAIN,
                f"{MAIN}-doc{n}",
                "document",
                f"Document {n}",
                assignee,
                None,
                None,
                fields.decode(),
                None,
                None,
                None,
                None,
                created,
                created,
                None,
                None,
                False,
                None,
                None,
            )
        )
        await self.flush()

    async def line(self, n: int) -> None:
        rng = self.rng
        deal, closed, assignee, pipeline_id, binned = rng.choice(self.deals)
        product = f"prod-{min(rng.randrange(PRODUCTS), rng.randrange(PRODUCTS))}"
        name = f"Line {product} {rng.choice(['S', 'M', 'L'])}"
        price, quantity = Decimal(rng.randrange(100, 100_000)) / 100, Decimal(1 + rng.randrange(10))
        created = self.first + timedelta(seconds=rng.random() * 700 * 86400)
        self.count((MAIN, created.date(), "line", "", "", "", "created"))
        fields = orjson.dumps({"price": str(price), "quantity": int(quantity)}).decode()
        self.items.append(
            (
                MAIN,
                f"{MAIN}-line{n}",
                "line",
                name,
                None,
                None,
                None,
                fields,
                None,
                None,
                None,
                None,
                created,
                created,
                None,
                None,
                False,
                product,
                deal,
            )
        )
        self.lines.append(
            (MAIN, f"{MAIN}-line{n}", deal, product, name, price, quantity, "deal", "won", closed, assignee,
             pipeline_id, binned)
        )  # fmt: skip
        await self.flush()


async def drop_indexes(conn: asyncpg.Connection) -> list[str]:
    """Drop the loaded tables' indexes and unique constraints; returns the statements that build them again."""
    tables = [f"projection.{t}" for t in LOADED]
    constraints = await conn.fetch(
        "SELECT conrelid::regclass::text AS t, conname, pg_get_constraintdef(oid) AS def FROM pg_constraint"
        " WHERE conrelid = ANY($1::regclass[]) AND contype IN ('p', 'u')",
        tables,
    )
    indexes = await conn.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'projection' AND tablename = ANY($1)"
        " AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))",
        LOADED,
    )
    for c in constraints:
        await conn.execute(f'ALTER TABLE {c["t"]} DROP CONSTRAINT "{c["conname"]}"')
    for i in indexes:
        await conn.execute(f'DROP INDEX projection."{i["indexname"]}"')
    return [f'ALTER TABLE {c["t"]} ADD CONSTRAINT "{c["conname"]}" {c["def"]}' for c in constraints] + [
        i["indexdef"] for i in indexes
    ]


async def load(dsn: str, now: datetime) -> dict[str, float]:
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("SET maintenance_work_mem = '512MB'; SET synchronous_commit = off")
        began = time.perf_counter()
        rebuild_indexes = await drop_indexes(conn)
        for tenant, pipes in PIPELINES.items():
            for pipeline_id, stages, _ in pipes:
                await conn.executemany(
                    "INSERT INTO projection.stages (tenant_id, stage_id, pipeline_id, entity_type_id, pipeline_name,"
                    " name, sort, semantic) VALUES ($1, $2, $3, 'deal', $3, $4, $5, $6)",
                    [(tenant, s.stage_id, pipeline_id, s.name, n * 10, s.semantic) for n, s in enumerate(stages)],
                )
            await conn.executemany(
                "INSERT INTO projection.entity_types (tenant_id, entity_type_id, name) VALUES ($1, $2, $3)",
                [(tenant, "deal", "Deal"), (tenant, "document", "Document"), (tenant, "line", "Product line")],
            )
        await conn.execute(
            "INSERT INTO projection.fields (tenant_id, entity_type_id, code, label, kind, options)"
            " VALUES ($1, 'document', 'kind', 'Kind', 'list', $2::jsonb)",
            MAIN,
            orjson.dumps({f"kind-{k}": f"Kind {k}" for k in range(8)}).decode(),
        )
        await conn.executemany(
            "INSERT INTO projection.products (tenant_id, product_id, name, sku) VALUES ($1, $2, $3, $2)",
            [(MAIN, f"prod-{p}", f"Product {p}") for p in range(PRODUCTS)],
        )
        await conn.executemany(  # departments for the stage-time report's per-department totals
            "INSERT INTO stage_departments (tenant_id, stage_id, department) VALUES ($1, $2, $3)",
            [
                (MAIN, s.stage_id, ["Sales", "Finance", "Legal"][n % 3])
                for _, stages, _ in PIPELINES[MAIN]
                for n, s in enumerate(stages)
            ],
        )
        await directory(conn)
        loader = Loader(conn, now)
        documents, lines = ITEMS // 10, ITEMS // 10
        deals = ITEMS - documents - lines
        small_deals = deals // 100  # each small tenant 1 % of the deals
        per_deal = VISITS / deals
        for n in range(deals - small_deals * len(SMALL_TENANTS)):
            await loader.deal(MAIN, n, per_deal)
        for tenant in SMALL_TENANTS:
            for n in range(small_deals):
                await loader.deal(tenant, n, per_deal)
        for n in range(documents):
            await loader.document(n)
        for n in range(lines):
            await loader.line(n)
        await loader.flush(force=True)
        await conn.copy_records_to_table(
            "product_lines",
            schema_name="projection",
            records=loader.lines,
            columns=LINE_COLUMNS,
        )
        counters = [(*k, n, loader.amounts.get(k, Decimal(0))) for k, n in loader.counters.items()]
        await conn.copy_records_to_table(
            "daily_counters",
            schema_name="projection",
            records=counters,
            columns=[
                "tenant_id",
                "day",
                "entity_type_id",
                "pipeline_id",
                "stage_id",
                "assignee_id",
                "metric",
                "n",
                "amount",
            ],
        )
        await conn.copy_records_to_table(
            "stage_entries",
            schema_name="projection",
            records=[(*k, n) for k, n in loader.entries.items()],
            columns=["tenant_id", "pipeline_id", "day", "stage_id", "n"],
        )
        await conn.copy_records_to_table(
            "stage_durations",
            schema_name="projection",
            records=[(*k, *cell) for k, cell in loader.durations.items()],
            columns=["tenant_id", "pipeline_id", "day", "stage_id", "bucket", "n", "total_s", "firsts"],
        )
        copied = time.perf_counter()
        for statement in rebuild_indexes:
            await conn.execute(statement)
        indexed = time.perf_counter()
        for table in [*LOADED, "stages", "products", "entity_types", "fields"]:
            await conn.execute(f"VACUUM ANALYZE projection.{table}")
        sizes: Any = await conn.fetchrow(
            "SELECT (SELECT count(*) FROM projection.items) AS items,"
            " (SELECT count(*) FROM projection.stage_visits) AS visits,"
            " (SELECT count(*) FROM projection.daily_counters) AS counters,"
            " (SELECT count(*) FROM projection.product_lines) AS lines,"
            " pg_database_size(current_database()) AS bytes"
        )
        return {
            "items": sizes["items"],
            "stage_visits": sizes["visits"],
            "daily_counters": sizes["counters"],
            "product_lines": sizes["lines"],
            "database_gb": sizes["bytes"] / 2**30,
            "load_copy_s": copied - began,
            "load_index_build_s": indexed - copied,
            "load_vacuum_analyze_s": time.perf_counter() - indexed,
        }
    finally:
        await conn.close()


FIELD_VISIT_COLUMNS = ["tenant_id", "item_id", "entity_type_id", "field", "item_assignee_id", "item_pipeline_id",
                       "item_deleted", "value", "entered_at", "left_at", "duration_s"]  # fmt: skip
STEP_COLUMNS = ["tenant_id", "task_id", "instance_id", "template_id", "item_id", "item_assignee_id",
                "item_pipeline_id", "step", "assignee_role", "entered_at", "left_at", "duration_s",
                "outcome"]  # fmt: skip
INSTANCE_COLUMNS = ["tenant_id", "instance_id", "template_id", "template_version", "item_id", "started_by",
                    "started_at", "finished_at", "end_event"]  # fmt: skip
# (template id, name, its user steps) of the deals' business processes
TEMPLATES = [
    ("approval", "Discount approval", ["Check the terms", "Head approves", "Finance approves", "Sign"]),
    ("onboarding", "Client onboarding", ["Was a meeting set?", "Meeting held?", "Terms agreed?", "Contract signed?"]),
    ("supplier", "Supplier check", ["Check the tax id", "Call the supplier"]),
]
INSTANCES = int(os.environ.get("BENCH_REPORTING_INSTANCES", "60000"))


async def load_extras(conn: asyncpg.Connection, now: datetime) -> dict[str, float]:
    """What revisions 0005, 0006 and 0010 project, from the loaded items: the history of each document's ``kind``
    (changed up to twice, the last value held now), each deal's ``source`` (held since creation), the ended ones
    counted per month and duration bucket, and
    ``INSTANCES`` business-process instances on the main tenant's deals, 85 % ended, 10 % waiting at a user
    step, 5 % waiting for a timer."""
    began = time.perf_counter()
    rng = random.Random(17)
    visits: list[tuple[Any, ...]] = []
    kinds = [f"kind-{k}" for k in range(8)]
    async with conn.transaction():
        async for r in conn.cursor(
            "SELECT tenant_id, item_id, entity_type_id, assignee_id, pipeline_id, deleted, created_at,"
            " fields->>'kind' AS kind, fields->>'source' AS source"
            " FROM projection.items WHERE entity_type_id IN ('document', 'deal')"
        ):
            item = (r["tenant_id"], r["item_id"], r["entity_type_id"])
            item_rights = (r["assignee_id"], r["pipeline_id"], r["deleted"])
            if r["entity_type_id"] == "deal":
                visits.append((*item, "source", *item_rights, r["source"], r["created_at"], None, None))
                continue
            held = [*(rng.choice(kinds) for _ in range(min(rng.randrange(4), 2))), r["kind"]]
            at = r["created_at"]
            for n, kind in enumerate(held):
                ends = at + timedelta(seconds=min(math.exp(rng.gauss(math.log(3 * 86400), 1.0)), 90 * 86400))
                if n == len(held) - 1 or ends > now:
                    visits.append((*item, "kind", *item_rights, r["kind"], at, None, None))
                    break
                visits.append((*item, "kind", *item_rights, kind, at, ends, (ends - at).total_seconds()))
                at = ends
    await conn.copy_records_to_table(
        "field_visits", schema_name="projection", records=visits, columns=FIELD_VISIT_COLUMNS
    )
    await conn.execute(FIELD_DURATIONS_BACKFILL)  # the ended visits per month and bucket, as the projector counts them
    deals = await conn.fetch(
        "SELECT item_id, assignee_id, pipeline_id, created_at FROM projection.items"
        " WHERE tenant_id = $1 AND entity_type_id = 'deal'"
        " ORDER BY item_id LIMIT $2",
        MAIN,
        INSTANCES * 3,
    )
    await conn.executemany(
        "INSERT INTO projection.process_templates (tenant_id, template_id, version, name, process_id, entity_type_id,"
        " saved_at) VALUES ($1, $2, 1, $3, $2, 'deal', $4)",
        [(MAIN, t, name, now - timedelta(days=800)) for t, name, _ in TEMPLATES],
    )
    instances: list[tuple[Any, ...]] = []
    steps: list[tuple[Any, ...]] = []
    for n, deal in enumerate(rng.sample(list(deals), min(INSTANCES, len(deals)))):
        template, _, names = rng.choices(TEMPLATES, [5, 3, 2])[0]
        instance = f"pi-{n}"
        started = deal["created_at"] + timedelta(hours=rng.random() * 48)
        fate = rng.random()  # < 0.85 ended, < 0.95 waiting at a step, else waiting for a timer
        taken = names if fate < 0.85 else names[: 1 + rng.randrange(len(names))]
        at, waiting = started, False
        for k, step in enumerate(taken):
            ends = at + timedelta(seconds=min(math.exp(rng.gauss(math.log(86400), 1.2)), 30 * 86400))
            still_open = (0.85 <= fate < 0.95 and k == len(taken) - 1) or ends > now
            steps.append(
                (MAIN, f"{instance}:{k}", instance, template, deal["item_id"], deal["assignee_id"],
                 deal["pipeline_id"], step, "manager", at,
                 None if still_open else ends, None if still_open else (ends - at).total_seconds(),
                 None if still_open else rng.choice(["done", "approved", "rejected"]))
            )  # fmt: skip
            if still_open:
                waiting = True
                break
            at = ends
        finished = at if fate < 0.85 and not waiting else None
        instances.append((MAIN, instance, template, 1, deal["item_id"], "system:on_create", started, finished, None))
    await conn.copy_records_to_table(
        "process_instances", schema_name="projection", records=instances, columns=INSTANCE_COLUMNS
    )
    await conn.copy_records_to_table("process_steps", schema_name="projection", records=steps, columns=STEP_COLUMNS)
    for table in ("field_visits", "field_durations", "process_templates", "process_instances", "process_steps"):
        await conn.execute(f"VACUUM ANALYZE projection.{table}")
    return {
        "field_visits": len(visits),
        "process_instances": len(instances),
        "process_steps": len(steps),
        "load_extras_s": time.perf_counter() - began,
    }


async def directory(conn: asyncpg.Connection) -> None:
    """The main tenant's users in 10 departments; managers read their department's deals and documents."""
    await conn.executemany(
        "INSERT INTO directory_departments (tenant_id, department_id, name, head_user_id, version)"
        " VALUES ($1, $2, $2, $3, 1)",
        [(MAIN, f"dep-{d}", f"user-{d * 15}") for d in range(10)],
    )
    await conn.executemany(
        "INSERT INTO directory_users (tenant_id, user_id, name, email, department_ids, roles, version)"
        " VALUES ($1, $2, $2, $2 || '@example.com', $3, $4, 1)",
        [(MAIN, f"user-{u}", [f"dep-{u // 15}"], ["manager"]) for u in range(ASSIGNEES)],
    )
    await conn.executemany(
        "INSERT INTO directory_role_grants (tenant_id, role, entity_type_id, actions, version)"
        " VALUES ($1, 'manager', $2, $3::jsonb, 1)",
        [(MAIN, t, '{"read": "department"}') for t in ("deal", "document", "line")],
    )


def cases(rng: random.Random, today: date) -> dict[str, list[dict[str, str]]]:
    """Per endpoint, REQUESTS parameter sets with varied periods (a week to a year, ending anywhere in the data)."""

    def period() -> dict[str, str]:
        days = rng.choice([7, 30, 30, 90, 365])
        last = today - timedelta(days=rng.choice([0, 0, rng.randrange(0, 300)]))
        return {"from": (last - timedelta(days=days - 1)).isoformat(), "to": last.isoformat()}

    def pipeline() -> str:
        return rng.choices([p[0] for p in PIPELINES[MAIN]], [p[2] for p in PIPELINES[MAIN]])[0]

    per = ["day", "week", "month"]
    return {
        "funnel": [{"pipeline_id": pipeline(), **period()} for _ in range(REQUESTS)],
        "stage_time": [{"pipeline_id": pipeline(), **period()} for _ in range(REQUESTS)],
        "throughput": [{"entity_type_id": "deal", "per": rng.choice(per), **period()} for _ in range(REQUESTS)],
        "products": [{"entity_type_id": "deal", "per": rng.choice(per[1:]), **period()} for _ in range(REQUESTS)],
        "registry": [{"entity_type_id": "document", "field": "kind", **period()} for _ in range(REQUESTS)],
        "forgotten": [{"pipeline_id": pipeline(), "days": str(rng.choice([3, 7, 14, 30]))} for _ in range(REQUESTS)],
        "process_steps": [{"entity_type_id": "deal", **period()} for _ in range(REQUESTS)],
        # every other request without a period: every visit since the beginning
        "field_time": [
            {"entity_type_id": "document", "field": "kind", **(period() if n % 2 else {})} for n in range(REQUESTS)
        ],
    }


PATHS = {"process_steps": "/v1/reports/process-steps", "field_time": "/v1/reports/field-time"}


async def kept_database(admin_dsn: str, name: str) -> tuple[str, bool]:
    """The kept database ``name`` (created if missing) and whether it already holds a loaded dataset."""
    conn = await asyncpg.connect(admin_dsn)
    try:
        if not await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    dsn = admin_dsn.rsplit("/", 1)[0] + "/" + name
    conn = await asyncpg.connect(dsn)
    try:
        loaded = await conn.fetchval("SELECT to_regclass('projection.items') IS NOT NULL")
        loaded = loaded and await conn.fetchval("SELECT EXISTS (SELECT 1 FROM projection.items)")
    finally:
        await conn.close()
    return dsn, bool(loaded)


async def queries(admin_dsn: str, kafka: str) -> tuple[dict[str, float], dict[str, str]]:
    if KEEP:
        dsn, loaded = await kept_database(admin_dsn, KEEP)
    else:
        dsn, loaded = await new_database(admin_dsn, "bench_reporting_queries"), False
    try:
        await upgrade_in_thread(MIGRATIONS_PATH, dsn)
        now = datetime.now(UTC)
        figures: dict[str, float] = {}
        if loaded:
            conn = await asyncpg.connect(dsn)
            try:  # the dataset's clock: periods end on the day it was loaded
                now = await conn.fetchval("SELECT max(created_at) FROM projection.items")
            finally:
                await conn.close()
            print(f"reusing {KEEP}, loaded up to {now}")
        else:
            figures = await load(dsn, now)
            print(f"loaded: {figures}")
        conn = await asyncpg.connect(dsn)
        try:  # a dataset kept from before revisions 0005 and 0006 gets their tables filled
            if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM projection.field_visits)"):
                extras = await load_extras(conn, now)
                figures.update(extras)
                print(f"loaded: {extras}")
        finally:
            await conn.close()
        settings = Settings(
            database_url=dsn,
            kafka_bootstrap_servers=kafka,
            environment="test",
            jwt_secret=SECRET,
            run_workers=False,
            log_level="WARNING",
        )
        app = create(settings)
        viewers = {
            "admin": mint_token(tenant_id=MAIN, user_id="admin", roles=("admin",), secret=SECRET),
            "manager": mint_token(tenant_id=MAIN, user_id="user-47", roles=("manager",), secret=SECRET),
        }
        targets: dict[str, str] = {}
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", timeout=120) as client,
        ):
            for endpoint, params_list in cases(random.Random(5), now.date()).items():
                for viewer, token in viewers.items():
                    headers = {"Authorization": f"Bearer {token}"}
                    url = PATHS.get(endpoint, f"/v1/reports/{endpoint.replace('_', '-')}")
                    if (await client.get(url, headers=headers, params=params_list[0])).status_code == 500:
                        # a report the JSON renderer cannot serialise: time its CSV form (same query) instead
                        print(f"{endpoint} {viewer}: JSON answer is 500, timing ?format=csv")
                        figures[f"{endpoint}_json_http_500"] = 1
                        params_list = [{**p, "format": "csv"} for p in params_list]
                    for params in params_list[:3]:  # warm-up: pool connections, prepared statements, caches
                        (await client.get(url, headers=headers, params=params)).raise_for_status()
                    times, rows = [], 0
                    for params in params_list:
                        began = time.perf_counter()
                        response = await client.get(url, headers=headers, params=params)
                        times.append((time.perf_counter() - began) * 1000)
                        response.raise_for_status()
                        rows += (
                            len(response.json().get("rows", response.json().get("values", [])))
                            if "format" not in params
                            else response.text.count("\n") - 1
                        )
                    figures[f"{endpoint}_{viewer}_p50_ms"] = percentile(times, 50)
                    figures[f"{endpoint}_{viewer}_p95_ms"] = percentile(times, 95)
                    targets[f"{endpoint}_{viewer}_p95_ms"] = "≤ 100" if endpoint == "funnel" else "≤ 300"
                    p50, p95 = percentile(times, 50), percentile(times, 95)
                    print(
                        f"{endpoint:10} {viewer:8} p50 {p50:8.1f} ms  p95 {p95:8.1f} ms  max {max(times):8.1f} ms"
                        f"  rows/answer {rows / len(times):.0f}"
                    )
        return figures, targets
    finally:
        if not KEEP:
            await drop_database(admin_dsn, dsn)


async def main() -> None:
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    admin_dsn, kafka = endpoints()
    figures: dict[str, float] = {}
    targets = {"ingest_events_per_s": "≥ 10,000", "rebuild_s": "≤ 120"}
    if "ingest" in PARTS:
        figures.update(await ingestion(admin_dsn, kafka))
        print(figures)
    if "kafka" in PARTS:
        figures.update(await ingestion_through_kafka(admin_dsn, kafka))
        print(figures)
    if "rebuild" in PARTS:
        figures.update(await rebuild_figures(admin_dsn, kafka))
        print(figures)
    if "queries" in PARTS:
        found, query_targets = await queries(admin_dsn, kafka)
        figures.update(found)
        targets.update(query_targets)
    report("reporting", figures, targets)


if __name__ == "__main__":
    asyncio.run(main())
