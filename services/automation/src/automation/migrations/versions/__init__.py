"""Revisions, raw SQL only, applied in order."""
