"""Command handlers and event reactions of the notifications service, one per file."""
