"""Ways into the automation service: HTTP now, Kafka consumers later."""
