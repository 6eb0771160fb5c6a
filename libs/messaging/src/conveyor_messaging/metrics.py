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
# Refreshed after every fetch (every 200 ms when idle), not only after an offset commit: a consumer
# stuck on its database shows its lag and age growing instead of a frozen figure.
CONSUMER_LAG_EVENTS = Gauge(
    "conveyor_consumer_lag_events", "Events on the consumer's partitions not yet applied", ["consumer"]
)
CONSUMER_LAG_SECONDS = Gauge(
    "conveyor_consumer_lag_seconds",
    "How old the consumer's unapplied events may be: time since the newest applied event was made (0 when caught up)",
    ["consumer"],
)
