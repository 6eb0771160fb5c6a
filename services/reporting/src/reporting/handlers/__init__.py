"""Command handlers and event reactions of the reporting service, one per file."""
