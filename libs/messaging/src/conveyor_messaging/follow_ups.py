"""Work one handler asks another to do, in the same transaction: a small message bus.

Handlers never import each other. A handler that needs another's work (a move follows the new
stage's tunnels, and a tunnel moves the item) dispatches a message; the service's routing table
names each message's handler, as it does for Kafka events. In the manner of cosmicpython's message
bus, but a call through a table, not a queue: the work is done before ``dispatch`` returns, its
answer comes back, and its failure is the caller's (a robot's run is failed, not lost).

Some work must wait for the rest of the fetch: an at-once robot that moves the item must not run
before the consumer has applied a later move of the same item in the same fetch (it would undo it).
``dispatch_after_the_fetch`` holds such a message until the batch handler wrapped by
``with_work_after_the_fetch`` has applied every event, then does it in the same transaction, under
the log context (correlation, causation, lane) it was asked in. Outside such a handler (a timer, a
request) it is done at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

import structlog

from conveyor_messaging.batches import BatchHandler
from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore

FollowUpHandler = Callable[[Connection, EventStore, Any], Awaitable[Any]]

# What the batch handler running in this task holds back until its fetch is applied: (bus, store,
# message, the log context it was asked in). None outside ``with_work_after_the_fetch``.
_after_the_fetch: ContextVar[list[tuple[FollowUps, EventStore, object, dict[str, Any]]] | None] = ContextVar(
    "conveyor_follow_ups_after_the_fetch", default=None
)


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

    async def dispatch_after_the_fetch(self, conn: Connection, store: EventStore, message: object) -> None:
        """Do ``message``'s work once the fetch being applied is, in its transaction; at once outside one."""
        held = _after_the_fetch.get()
        if held is None:
            await self.dispatch(conn, store, message)
            return
        held.append((self, store, message, structlog.contextvars.get_contextvars()))


def with_work_after_the_fetch(handle: BatchHandler) -> BatchHandler:
    """``handle``, then the work its reactions held back until the whole fetch was applied (in order,
    including work that work holds back), in the same transaction."""

    async def handle_then_held_work(conn: Connection, events: Sequence[Envelope]) -> None:
        held: list[tuple[FollowUps, EventStore, object, dict[str, Any]]] = []
        token = _after_the_fetch.set(held)
        try:
            await handle(conn, events)
            while held:
                bus, store, message, context = held.pop(0)
                with structlog.contextvars.bound_contextvars(**context):
                    await bus.dispatch(conn, store, message)
        finally:
            _after_the_fetch.reset(token)

    return handle_then_held_work
