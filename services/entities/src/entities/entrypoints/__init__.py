"""Ways into the entities service: HTTP now, Kafka consumers later."""
