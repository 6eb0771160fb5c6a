"""Kafka clients configured the one way the backbone relies on."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer


def make_producer(bootstrap_servers: str, *, client_id: str = "conveyor") -> AIOKafkaProducer:
    """Idempotent producer with acks=all: no duplicates from its own retries, no loss on ack."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        max_batch_size=512 * 1024,
        request_timeout_ms=30_000,
        retry_backoff_ms=200,
    )


def make_consumer(
    bootstrap_servers: str, *, group_id: str, topics: list[str], client_id: str = "conveyor"
) -> AIOKafkaConsumer:
    """Group consumer that never commits on its own: offsets follow the database commit."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=500,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,
        metadata_max_age_ms=30_000,
    )
