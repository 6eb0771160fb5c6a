"""Deliver BPMN messages, signals and item changes to the process instances waiting for them, in the
transaction of what caused them (an item event a consumer applies, a request, another instance's step).

Reached through ``follow_ups.DeliverEvent`` (the routing table names this handler), so that the process
handler can signal other instances without importing this module, and directly from the HTTP edge.
"""

from __future__ import annotations

from contextvars import ContextVar

import structlog
from conveyor_messaging.db import Connection
from conveyor_messaging.eventstore import EventStore
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

from automation import follow_ups
from automation.adapters import processes as rows
from automation.domain import process_events
from automation.handlers.processes import move_instance

log = structlog.get_logger()

# A signal that wakes an instance which signals back would go round for ever: deliveries nest this deep.
MAX_NESTED_DELIVERIES = 8
# Instances whose run of steps caused the delivery being made: loaded again now they would be written
# twice, from two states; they are left out (their own event reached them inside SpiffWorkflow).
_senders: ContextVar[frozenset[str]] = ContextVar("process_event_senders", default=frozenset())


async def deliver_event(conn: Connection, store: EventStore, asked: follow_ups.DeliverEvent) -> int:
    """Each waiting instance (the item's; a signal's: the tenant's) takes the event, runs on and is saved;
    answers how many took it."""
    senders = _senders.get() | ({asked.sender} if asked.sender else set())
    if len(senders) > MAX_NESTED_DELIVERIES:
        log.warning("process_event_not_delivered", name=asked.name, kind=asked.kind, reason="nested too deep")
        return 0
    key = process_events.CONDITION if asked.kind == "condition" else f"{asked.kind}:{asked.name}"
    waiting = await rows.instances_waiting(conn, asked.tenant_id, key, item_id=asked.item_id)
    token = _senders.set(senders)
    try:
        taken = 0
        for instance_id in waiting:
            if instance_id in senders:
                continue
            taken += await move_instance(
                conn, store, asked.tenant_id, instance_id, _step(asked), lambda workflow: _act(asked, workflow),
                asked.now,
            )  # fmt: skip
        return taken
    finally:
        _senders.reset(token)


def _act(asked: follow_ups.DeliverEvent, workflow: BpmnWorkflow) -> int:
    if asked.kind == "condition":
        return process_events.refresh_conditions(workflow, asked.variables["item"])
    return process_events.deliver(workflow, asked.kind, asked.name, asked.variables)


def _step(asked: follow_ups.DeliverEvent) -> str:
    return "item changed: conditions" if asked.kind == "condition" else f"{asked.kind}: {asked.name}"
