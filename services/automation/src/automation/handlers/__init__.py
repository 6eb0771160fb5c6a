"""Command handlers and event reactions of the automation service, one per file."""
