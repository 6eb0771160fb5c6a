"""The automation domain model: aggregates, commands and events, free of I/O."""
