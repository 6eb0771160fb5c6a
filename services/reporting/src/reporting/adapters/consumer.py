"""The projections' consumer: the backbone's idempotent consumer, but each fetch is recorded in the
journal and applied to the projections as a batch instead of event by event, and the lag behind
each topic is kept for ``/health/ready`` and ``/metrics``."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import structlog
from aiokafka import ConsumerRecord, TopicPartition
from conveyor_messaging.batches import BatchHandler
from conveyor_messaging.consumer import EventConsumer
from conveyor_messaging.contracts import topic_for
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.lanes import BULK_SUFFIX
from prometheus_client import Gauge

from reporting.adapters import journal
from reporting.adapters.projector import project
from reporting.adapters.schema import LIVE
from reporting.adapters.statistics import FreshStatistics
from reporting.handlers import Projection

log = structlog.get_logger(__name__)

LAG_MESSAGES = Gauge(
    "conveyor_reporting_projection_lag_messages", "Events on the topic the projections have not applied", ["topic"]
)
LAG_SECONDS = Gauge(
    "conveyor_reporting_projection_lag_seconds",
    "Age of the newest applied event of the topic when it was applied",
    ["topic"],
)


class ProjectionConsumer(EventConsumer):
    """Applies a whole fetch to the live projections in one transaction with its processed marks."""

    def __init__(self, *, projections: Mapping[str, Projection], **kwargs: Any) -> None:
        self._projections = projections
        super().__init__(handle=self._project_one, **kwargs)
        self.topic_lag: dict[str, dict[str, float]] = {}
        self._statistics = FreshStatistics(LIVE)

    async def _apply_in_one_transaction(self, batch: list[tuple[ConsumerRecord, Envelope]]) -> list[ConsumerRecord]:
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "INSERT INTO processed_events (consumer, event_id) SELECT $1, unnest($2::text[])"
                " ON CONFLICT DO NOTHING RETURNING event_id",
                self.name,
                [event.id for _, event in batch],
            )
            fresh = {row[0] for row in rows}
            applied = []
            for record, event in batch:
                if event.id in fresh:
                    fresh.discard(event.id)
                    applied.append((record, event))
            if applied:
                topics = {event.id: record.topic for record, event in applied}
                await self.apply_in_stream_order(conn, applied, self._journal_and_project(topics))
        await self._statistics.keep(self._pool)
        now = time.time()
        for record, event in applied:
            self._topic(record.topic)["seconds"] = max(now - event.time.timestamp(), 0.0)
        return [record for record, _ in applied]

    async def _commit(self, offsets: dict[TopicPartition, int]) -> None:
        await super()._commit(offsets)
        behind: dict[str, int] = {}
        for tp in self._consumer.assignment():
            highwater, position = self._consumer.highwater(tp), offsets.get(tp)
            if highwater is not None and position is not None:
                behind[tp.topic] = behind.get(tp.topic, 0) + max(highwater - position, 0)
        for topic, messages in behind.items():
            self._topic(topic)["messages"] = messages
        self.export_lag()

    def _journal_and_project(self, topics: Mapping[str, str]) -> BatchHandler:
        """The journal (which a rebuild replays, so it keeps the order applied) and the projections. A
        released event's topic is its lane's twin or not: the journal names the contract's topic."""

        async def handle(conn: Connection, events: Sequence[Envelope]) -> None:
            await journal.record(
                conn, [(topics.get(e.id, topic_for(e.type)).removesuffix(BULK_SUFFIX), e) for e in events]
            )
            await project(conn, LIVE, events, self._projections)

        return handle

    async def _project_one(self, conn: Connection, event: Envelope) -> None:
        await project(conn, LIVE, [event], self._projections)

    def _topic(self, topic: str) -> dict[str, float]:
        return self.topic_lag.setdefault(topic, {"messages": 0, "seconds": 0.0})

    def export_lag(self) -> dict[str, dict[str, float]]:
        """Per topic: messages behind the high watermark and the age of the newest applied event."""
        for topic, figures in self.topic_lag.items():
            LAG_MESSAGES.labels(topic).set(figures["messages"])
            LAG_SECONDS.labels(topic).set(figures["seconds"])
        return {topic: dict(figures) for topic, figures in self.topic_lag.items()}
