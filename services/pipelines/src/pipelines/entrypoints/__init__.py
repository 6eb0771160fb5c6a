"""Ways into the pipelines service: HTTP now, Kafka consumers later."""
