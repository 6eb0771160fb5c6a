"""What every command handler works in: the caller's transaction, the event store, who and when."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import EventStore


@dataclass(frozen=True)
class Unit:
    """One unit of work: handlers write state and append events on `conn`, inside its transaction.

    The caller (an HTTP route, a Kafka consumer, an importer) owns the transaction, so several
    commands can commit together.
    """

    conn: Connection
    store: EventStore
    tenant_id: str
    actor: Actor
    now: datetime
    # What the unit has read and a later step of the same request needs again, read once (an identity
    # map): the caller's rights (``adapters.access.KnownRights``), types' schemas by id
    # (``schema_for``), and items' placements by id (``load_item`` and ``create_item`` note them).
    known_rights: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    known_schemas: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    known_placements: dict[str, dict[str, Any]] = field(default_factory=dict, compare=False, repr=False)

    @property
    def author(self) -> str:
        """The id recorded as created_by/updated_by: a user's id, or `robot:r-1` for the others."""
        return self.actor.id if self.actor.kind == "user" else str(self.actor)
