"""Kafka clients configured the one way the backbone relies on, with TLS/SASL from the environment."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.helpers import create_ssl_context


@dataclass(frozen=True, slots=True)
class KafkaSecurity:
    """How to reach a secured cluster; PLAINTEXT (the local stack) when nothing is set."""

    protocol: str = "PLAINTEXT"  # PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL
    sasl_mechanism: str | None = None  # PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
    sasl_username: str | None = None
    sasl_password: str | None = None
    ssl_cafile: str | None = None

    @classmethod
    def from_env(cls) -> KafkaSecurity:
        """``KAFKA_SECURITY_PROTOCOL``, ``KAFKA_SASL_MECHANISM``, ``KAFKA_SASL_USERNAME``,
        ``KAFKA_SASL_PASSWORD`` and ``KAFKA_SSL_CAFILE``, as the Helm chart sets them."""
        env = os.environ
        return cls(
            protocol=env.get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),
            sasl_mechanism=env.get("KAFKA_SASL_MECHANISM") or None,
            sasl_username=env.get("KAFKA_SASL_USERNAME") or None,
            sasl_password=env.get("KAFKA_SASL_PASSWORD") or None,
            ssl_cafile=env.get("KAFKA_SSL_CAFILE") or None,
        )

    def client_options(self) -> dict[str, Any]:
        """Keyword arguments every aiokafka client takes."""
        options: dict[str, Any] = {"security_protocol": self.protocol}
        if self.protocol in ("SSL", "SASL_SSL"):
            options["ssl_context"] = create_ssl_context(cafile=self.ssl_cafile)
        if self.protocol.startswith("SASL_"):
            options["sasl_mechanism"] = self.sasl_mechanism or "PLAIN"
            options["sasl_plain_username"] = self.sasl_username
            options["sasl_plain_password"] = self.sasl_password
        return options


def make_producer(
    bootstrap_servers: str,
    *,
    client_id: str = "conveyor",
    security: KafkaSecurity | None = None,
    request_timeout_ms: int = 30_000,
) -> AIOKafkaProducer:
    """Idempotent producer with acks=all: no duplicates from its own retries, no loss on ack.
    A batch not acknowledged within ``request_timeout_ms`` fails (expires)."""
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        enable_idempotence=True,
        acks="all",
        linger_ms=2,
        max_batch_size=512 * 1024,
        request_timeout_ms=request_timeout_ms,
        retry_backoff_ms=200,
        **(security or KafkaSecurity.from_env()).client_options(),
    )


# A fetch that waits for a batch answers early once this much is there.
BATCH_BYTES = 1024 * 1024


def make_consumer(
    bootstrap_servers: str,
    *,
    group_id: str,
    topics: list[str],
    client_id: str = "conveyor",
    security: KafkaSecurity | None = None,
    batch_wait_ms: int | None = None,
) -> AIOKafkaConsumer:
    """Group consumer that never commits on its own: offsets follow the database commit.

    With ``batch_wait_ms`` the broker holds a fetch until that long has passed (or a batch's worth
    of events is waiting), so events reach the consumer in batches: one fetch, one transaction and
    one offset commit for many. Without it a fetch answers as soon as one event is there: fastest,
    but a consumer that reads many partitions (every fetch lists them all) then pays a whole fetch
    round, decoded in Python, for nearly every event.
    """
    batching = {} if batch_wait_ms is None else {"fetch_min_bytes": BATCH_BYTES, "fetch_max_wait_ms": batch_wait_ms}
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        max_poll_records=500,
        **batching,
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,
        metadata_max_age_ms=30_000,
        **(security or KafkaSecurity.from_env()).client_options(),
    )
