"""Work one handler asks another to do, in the same transaction: a small message bus.

Handlers never import each other (that made import cycles: an action starts a process, a process
runs actions). A handler that needs another's work dispatches a message from here; the routing table
(`automation.routing.FOLLOW_UPS`) names the handler of each message, as it does for Kafka events.
The answer comes back to the caller, so a failure stays the caller's (a robot's run is failed, not
lost): this is a call through a table, in the manner of cosmicpython's message bus, not a queue.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import EventStore
from conveyor_messaging.follow_ups import FollowUps


@dataclass(frozen=True, slots=True)
class RunRobotNow:
    """An at-once robot's run on an item that just entered its stage, in the reacting consumer's
    transaction (delayed robots go by durable timers)."""

    tenant_id: str
    run: dict[str, str]  # run_id, robot_id, item_id, visit_id: as a robot timer's payload
    due_at: datetime


@dataclass(frozen=True, slots=True)
class StartProcess:
    """A process on an item, started by a robot's action or a process's step; answers the instance."""

    tenant_id: str
    template_id: str
    item_id: str
    started_by: str
    now: datetime
    instance_id: str


@dataclass(frozen=True, slots=True)
class DeliverEvent:
    """A BPMN message (to the item's instances), signal (to the tenant's) or changed item (``condition``: the
    item's conditional events look again) for the instances that wait for it; answers how many took it.
    ``sender``: the instance that caused it, which is not woken by it (it is being saved)."""

    tenant_id: str
    kind: str  # "message", "signal" or "condition"
    name: str
    item_id: str | None
    variables: dict[str, Any]
    now: datetime
    sender: str | None = None


FollowUp = RunRobotNow | StartProcess | DeliverEvent
BUS = FollowUps("automation")
handled_by = BUS.handled_by


async def dispatch(conn: Connection, store: EventStore, message: FollowUp) -> Any:
    """Do ``message``'s work now, in the caller's transaction; returns its handler's answer."""
    return await BUS.dispatch(conn, store, message)


async def dispatch_after_the_fetch(conn: Connection, store: EventStore, message: FollowUp) -> None:
    """Do ``message``'s work once the consumer has applied its whole fetch (same transaction): an
    at-once robot then sees whether a later event of the fetch already took the item elsewhere."""
    await BUS.dispatch_after_the_fetch(conn, store, message)
