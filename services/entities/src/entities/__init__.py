"""Conveyor entities service: entity types, their custom fields and items."""
