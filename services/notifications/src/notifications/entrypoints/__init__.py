"""Ways into the notifications service: HTTP now, Kafka consumers later."""
