"""The reporting service's ports implemented on PostgreSQL, Kafka and other I/O."""
