"""Command handlers and event reactions of the entities service, one per file."""
