"""Kafka chores of tests that run a service app on the shared broker."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aiokafka import AIOKafkaClient, AIOKafkaConsumer, TopicPartition
from conveyor_messaging.lanes import both_lanes


async def cluster_metadata(bootstrap: str) -> Any:
    """Every topic and partition the cluster has (aiokafka's ``ClusterMetadata``)."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    try:
        # A consumer that subscribed to nothing knows no partitions: ask the cluster itself.
        return await client.fetch_all_metadata()
    finally:
        await client.close()


async def start_groups_at_end(bootstrap: str, groups: Mapping[str, Iterable[str]]) -> None:
    """Commit each new consumer group's offsets at the end of its topics.

    A test's service app gets groups of its own (``consumer_group_suffix``); without this they
    would start from the earliest offset and replay everything other tests published before.
    Topics that do not exist yet have no history to skip. Every consumer reads each topic's twin of the
    bulk lane too (``lanes.both_lanes``), so the twins are skipped with their topics.
    """
    metadata = await cluster_metadata(bootstrap)
    for group, named in groups.items():
        topics = both_lanes(named)
        partitions = [TopicPartition(t, p) for t in topics for p in sorted(metadata.partitions_for_topic(t) or ())]
        if not partitions:
            continue
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign(partitions)
            await consumer.commit(dict(await consumer.end_offsets(partitions)))
        finally:
            await consumer.stop()
