"""Work one handler asks another to do, in the same transaction: a small message bus.

Handlers never import each other. A handler that needs another's work (a move follows the new
stage's tunnels, and a tunnel moves the item) dispatches a message; the service's routing table
names each message's handler, as it does for Kafka events. In the manner of cosmicpython's message
bus, but a call through a table, not a queue: the work is done before ``dispatch`` returns, its
answer comes back, and its failure is the caller's (a robot's run is failed, not lost).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import EventStore

FollowUpHandler = Callable[[Connection, EventStore, Any], Awaitable[Any]]


class FollowUps:
    """One service's table of follow-up messages and their handlers (installed by its routing module)."""

    def __init__(self, service: str) -> None:
        self._service = service
        self._handlers: dict[type, FollowUpHandler] = {}

    def handled_by(self, table: Mapping[type, FollowUpHandler]) -> None:
        """Install the routing table's handlers (done once, when the service's routing is imported)."""
        self._handlers.update(table)

    async def dispatch(self, conn: Connection, store: EventStore, message: object) -> Any:
        """Do ``message``'s work now, in the caller's transaction; returns its handler's answer."""
        handler = self._handlers.get(type(message))
        if handler is None:
            raise LookupError(f"no handler for {type(message).__name__}: import {self._service}.routing first")
        return await handler(conn, store, message)
