"""What every command handler works in: the caller's transaction, the event store, who and when."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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

    @property
    def author(self) -> str:
        """The id recorded as created_by/updated_by: a user's id, or `robot:r-1` for the others."""
        return self.actor.id if self.actor.kind == "user" else str(self.actor)
