"""Ways into the reporting service: HTTP now, Kafka consumers later."""
