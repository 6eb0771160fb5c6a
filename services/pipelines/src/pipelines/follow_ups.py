"""Work one handler asks another to do, in the same transaction: a small message bus.

Handlers never import each other: a move follows the tunnels of its new stage, and a tunnel moves
the item, which made the two modules import each other. A handler dispatches a message from here;
the routing table (`pipelines.routing.FOLLOW_UPS`) names each message's handler, as it does for
Kafka events. It is a call through a table, in the manner of cosmicpython's message bus: the work
is done before ``dispatch`` returns, and its failure is the caller's.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from conveyor_messaging.actor import Actor
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import EventStore
from conveyor_messaging.follow_ups import FollowUps


@dataclass(frozen=True, slots=True)
class FollowTunnels:
    """The item entered ``stage_id``: its tunnels move it on or send a linked copy."""

    tenant_id: str
    item_id: str
    stage_id: str
    now: datetime


@dataclass(frozen=True, slots=True)
class MoveThroughTunnel:
    """A ``move`` tunnel takes the item to ``to_stage_id`` (no rights or transition rules apply)."""

    tenant_id: str
    item_id: str
    to_stage_id: str
    tunnel_id: str
    now: datetime


@dataclass(frozen=True, slots=True)
class PlaceWaitingItems:
    """A type's first pipeline opened: its items that waited for one are placed."""

    tenant_id: str
    entity_type_id: str
    actor: Actor
    now: datetime


FollowUp = FollowTunnels | MoveThroughTunnel | PlaceWaitingItems
BUS = FollowUps("pipelines")
handled_by = BUS.handled_by


async def dispatch(conn: Connection, store: EventStore, message: FollowUp) -> Any:
    """Do ``message``'s work now, in the caller's transaction; returns its handler's answer."""
    return await BUS.dispatch(conn, store, message)
