"""Prometheus metrics of the backbone, exported by every service's /metrics."""

from prometheus_client import Counter, Gauge, Histogram

RELAYED = Counter("conveyor_relay_events_total", "Events published to Kafka by the outbox relay", ["relay"])
RELAY_FAILURES = Counter("conveyor_relay_failures_total", "Relay batches that failed and were retried", ["relay"])
RELAY_LAG = Gauge(
    "conveyor_relay_lag_seconds", "Age of the newest event the relay published, at publish time", ["relay"]
)

CONSUMED = Counter("conveyor_consumer_events_total", "Events applied by a consumer", ["consumer", "topic"])
DUPLICATES = Counter(
    "conveyor_consumer_duplicates_total", "Redelivered events skipped as already processed", ["consumer", "topic"]
)
DEAD_LETTERED = Counter(
    "conveyor_consumer_dead_letters_total", "Messages sent to the dead-letter topic", ["consumer", "topic"]
)
CONSUMER_LAG = Gauge(
    "conveyor_consumer_lag_messages",
    "Messages behind the partition's high watermark",
    ["consumer", "topic", "partition"],
)
HANDLE_SECONDS = Histogram(
    "conveyor_consumer_batch_seconds", "Time to apply one batch in one transaction", ["consumer"]
)
WORKER_RESTARTS = Counter(
    "conveyor_worker_restarts_total", "Relays and consumers started again after an unexpected error", ["worker"]
)
