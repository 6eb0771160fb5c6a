"""Conveyor automation service: robots, triggers and business processes reacting to item moves."""
