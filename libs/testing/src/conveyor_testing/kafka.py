"""Kafka chores of tests that run a service app on the shared broker."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition


async def start_groups_at_end(bootstrap: str, groups: dict[str, Iterable[str]]) -> None:
    """Commit each new consumer group's offsets at the end of its topics.

    A test's service app gets groups of its own (``consumer_group_suffix``); without this they
    would start from the earliest offset and replay everything other tests published before.
    """
    for group, topics in groups.items():
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False)
        await consumer.start()
        try:
            partitions = [
                TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or ())
            ]
            if partitions:
                consumer.assign(partitions)
                await consumer.commit(dict(await consumer.end_offsets(partitions)))
        finally:
            await consumer.stop()
