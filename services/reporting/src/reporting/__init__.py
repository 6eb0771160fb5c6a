"""Conveyor reporting service: read models and analytics built from everyone's events."""
