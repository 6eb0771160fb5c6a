"""What is on Kafka: a snapshot of where every topic ends, every record of a tenant since then, and
consumer-group lag."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from conveyor_testing.kafka import cluster_metadata

Offsets = dict[TopicPartition, int]


@dataclass(frozen=True, slots=True)
class Published:
    """One record as a consumer sees it: where it is and its CloudEvents id, type and subject."""

    topic: str
    partition: int
    offset: int
    event_id: str
    type: str
    subject: str


@contextlib.asynccontextmanager
async def plain_consumer(bootstrap: str, **options: object) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer outside any group, started for the block."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **options)
    await consumer.start()
    try:
        yield consumer
    finally:
        # aiokafka awaits a task of its own on stop, which fails if that task never got to run.
        await asyncio.sleep(0)
        await consumer.stop()


async def end_offsets(bootstrap: str, topics: Iterable[str] | None = None) -> Offsets:
    """Where each partition of ``topics`` (default: every conveyor topic) ends now."""
    metadata = await cluster_metadata(bootstrap)
    known = metadata.topics()
    names = set(topics) & known if topics is not None else {t for t in known if t.startswith("conveyor.")}
    partitions = [TopicPartition(t, p) for t in sorted(names) for p in sorted(metadata.partitions_for_topic(t) or ())]
    if not partitions:
        return {}
    async with plain_consumer(bootstrap) as consumer:
        consumer.assign(partitions)  # asks for their metadata now: end_offsets would wait seconds for it
        return dict(await consumer.end_offsets(partitions))


async def records_of_tenant(bootstrap: str, tenant: str, since: Offsets, within: float = 120.0) -> list[Published]:
    """Every record of ``tenant`` on the conveyor topics after ``since`` (topics new since then: all of it)."""
    until = await end_offsets(bootstrap)
    wanted = {tp: end for tp, end in until.items() if end > since.get(tp, 0)}
    if not wanted:
        return []
    found: list[Published] = []
    async with plain_consumer(bootstrap, max_poll_records=5000) as consumer:
        consumer.assign(list(wanted))
        for tp in wanted:
            consumer.seek(tp, since.get(tp, 0))
        deadline = time.monotonic() + within
        remaining = dict(wanted)
        while remaining:
            assert time.monotonic() < deadline, f"could not read the topics to their end: {remaining}"
            for tp, batch in (await consumer.getmany(timeout_ms=500)).items():
                for record in batch:
                    headers = {key: value.decode() for key, value in record.headers or ()}
                    if headers.get("ce_tenantid") == tenant:
                        found.append(
                            Published(
                                record.topic, record.partition, record.offset,
                                headers.get("ce_id", ""), headers.get("ce_type", ""), headers.get("ce_subject", ""),
                            )
                        )  # fmt: skip
                if batch and batch[-1].offset + 1 >= remaining.get(tp, 0):
                    remaining.pop(tp, None)
    return found


async def group_lag(bootstrap: str, groups: Mapping[str, Iterable[str]]) -> dict[str, dict[str, int]]:
    """Per group and partition (``topic/partition``) behind: records it has not committed yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        ends = await end_offsets(bootstrap, {t for topics in groups.values() for t in topics})
        lags: dict[str, dict[str, int]] = {}
        for group, topics in groups.items():
            committed = await admin.list_consumer_group_offsets(group)
            mine = set(topics)
            behind = {
                f"{tp.topic}/{tp.partition}": end - max(committed[tp].offset if tp in committed else 0, 0)
                for tp, end in ends.items()
                if tp.topic in mine
            }
            lags[group] = {where: n for where, n in behind.items() if n > 0}
        return lags
    finally:
        await admin.close()
