"""Command handlers and event reactions of the pipelines service, one per file."""
