"""Entities-service events about relations between items, roll-ups, the catalogue and imports.

Kept apart from ``entities.py`` (types, fields, items) so the two areas can grow independently;
the type names are ``conveyor.entities.<aggregate>.<event>.v<N>`` like every entities event.
"""
