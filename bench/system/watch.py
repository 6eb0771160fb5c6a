"""Reads the item topics as any other consumer would: placements make items movable, and a robot's
field change arriving from the entities service ends its move → effect measurement."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from conveyor_kit.background import in_background
from items import Item, Items

ENTITY_ITEMS = "conveyor.entities.item"
PIPELINE_ITEMS = "conveyor.pipelines.item"
PLACED = "conveyor.pipelines.item.placed.v1"
UPDATED = "conveyor.entities.item.updated.v1"
MARK = "fields.stage_mark"


class Watcher:
    """Applies the tenant's item events to what the generator knows (``Items``)."""

    def __init__(self, items: Items, tenant: str) -> None:
        self.items = items
        self.tenant = tenant.encode()
        # Events about items whose create has not answered yet, or marks seen before the move's 2xx
        # was handled: applied when the item or the move shows up.
        self.early_placements: dict[str, int] = {}
        self.early_marks: dict[str, tuple[str, float, int]] = {}

    def item_created(self, item: Item) -> None:
        self.items.add(item)
        if (version := self.early_placements.pop(item.item_id, None)) is not None:
            item.pipeline_version = max(item.pipeline_version, version)

    def item_moved(self, item: Item, mark: str) -> None:
        item.robot_due, item.moved_at = mark, time.monotonic()
        early = self.early_marks.pop(item.item_id, None)
        if early is not None and early[0] == mark:
            self._robot_acted(item, early[1], early[2])

    def _robot_acted(self, item: Item, at: float, version: int) -> None:
        self.items.robot_latencies_ms.append(max(0.0, at - item.moved_at) * 1000)
        item.robot_due = None
        item.entity_version = max(item.entity_version, version)

    def apply(self, item_id: str, kind: str, version: int, value: bytes | None, at: float) -> None:
        item = self.items.by_id.get(item_id)
        if kind == PLACED:
            if item is None:
                self.early_placements[item_id] = version
            else:
                item.pipeline_version = max(item.pipeline_version, version)
            return
        if kind != UPDATED or item is None:
            return
        change = orjson.loads(value or b"{}").get("changes", {}).get(MARK)
        if change is None:
            item.entity_version = max(item.entity_version, version)
        elif item.robot_due == change.get("new"):
            self._robot_acted(item, at, version)
        else:
            self.early_marks[item_id] = (change.get("new"), at, version)
            item.entity_version = max(item.entity_version, version)

    @contextlib.asynccontextmanager
    async def running(self, bootstrap: str) -> AsyncIterator[None]:
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_wait_ms=20)
        await consumer.start()
        partitions = [
            TopicPartition(topic, p)
            for topic in (ENTITY_ITEMS, PIPELINE_ITEMS)
            for p in sorted(consumer.partitions_for_topic(topic) or await self._partitions(consumer, topic))
        ]
        consumer.assign(partitions)
        await consumer.seek_to_end(*partitions)
        try:
            async with in_background(self._consume(consumer)):
                yield
        finally:
            await consumer.stop()

    @staticmethod
    async def _partitions(consumer: AIOKafkaConsumer, topic: str) -> set[int]:
        await consumer._client.force_metadata_update()  # the topic was created after start()
        return consumer.partitions_for_topic(topic) or {0}

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        while True:
            batches = await consumer.getmany(timeout_ms=100, max_records=2000)
            at = time.monotonic()
            for records in batches.values():
                for record in records:
                    headers = dict(record.headers)
                    if headers.get("ce_tenantid") != self.tenant:
                        continue
                    self.apply(
                        record.key.decode(),
                        headers["ce_type"].decode(),
                        int(headers["ce_aggregateversion"]),
                        record.value,
                        at,
                    )
