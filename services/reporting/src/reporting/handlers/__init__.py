"""Reactions that keep the projections: each takes a run of events of one kind and applies it in a
few multi-row statements. ``Projection`` is what every reaction looks like."""

from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope

# (connection, schema of the projection tables, consecutive events of the same kind)
Projection = Callable[[Connection, str, Sequence[Envelope]], Awaitable[None]]


def rows_json(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows for ``jsonb_to_recordset($1::jsonb)``: one parameter however many rows (the pool's jsonb
    codec, ``conveyor_kit.database.register_json_codecs``, encodes them)."""
    return rows


def new_value(change: object) -> object:
    """A change is either the new value or ``{"old": ..., "new": ...}``."""
    if isinstance(change, dict) and "new" in change:
        return change["new"]
    return change
