"""The reporting domain model: aggregates, commands and events, free of I/O."""
