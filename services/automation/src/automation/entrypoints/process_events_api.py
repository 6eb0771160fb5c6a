"""HTTP: BPMN messages and signals sent from outside, to the process instances that wait for them."""

from __future__ import annotations

import re
from typing import Any

from conveyor_kit.openapi import problem_responses
from conveyor_kit.problems import not_found
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, field_validator

from automation.adapters import items
from automation.adapters.access import may_read
from automation.domain import process_events
from automation.entrypoints.deps import CtxDep
from automation.entrypoints.process_events_models import EventDelivery
from automation.follow_ups import DeliverEvent
from automation.handlers.process_events import deliver_event

router = APIRouter(prefix="/v1/processes", tags=["business processes"], responses=problem_responses(403, 404))

# A BPMN message's or signal's name as modellers write it ("Package delivered"), without control characters.
EVENT_NAME = re.compile(r"^[^\x00-\x1f\x7f]{1,200}$")


def _variables(variables: dict[str, Any]) -> dict[str, Any]:
    bad = [name for name in variables if not name.isidentifier() or name.startswith("_") or name == "item"]
    if bad:
        raise ValueError(f"not a variable name: {bad[0]!r} (a name, not `item`, not starting with `_`)")
    return variables


class MessageBody(BaseModel):
    """A message for the processes on one item: those waiting for ``name`` take it, with ``variables``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=EVENT_NAME.pattern)
    item_id: str = Field(min_length=1, max_length=200)
    variables: dict[str, Any] = Field(default_factory=dict, max_length=100)

    @field_validator("name")
    @classmethod
    def _not_conveyors(cls, name: str) -> str:
        if name.startswith(process_events.RESERVED_PREFIXES):
            raise ValueError(f"{name!r}: names starting with `item.` or `task.` are Conveyor's own messages")
        return name

    _checked = field_validator("variables")(_variables)


class SignalBody(BaseModel):
    """A signal for every process of the tenant waiting for ``name``."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=EVENT_NAME.pattern)
    variables: dict[str, Any] = Field(default_factory=dict, max_length=100)

    _checked = field_validator("variables")(_variables)


@router.post("/messages", response_model=EventDelivery)
async def send_message(ctx: CtxDep, body: MessageBody) -> dict[str, Any]:
    """Deliver a BPMN message to the item's processes that wait for it (admins, or users who can see the
    item); answers how many took it (0: none was waiting, nothing is kept for later)."""
    async with ctx.pool.acquire() as conn, conn.transaction():
        item = await items.load(conn, ctx.tenant_id, body.item_id)
        if item is None or not await may_read(conn, ctx.principal, body.item_id):
            raise not_found(f"no item {body.item_id}")
        variables = {**body.variables, "item": item.view()}
        asked = DeliverEvent(ctx.tenant_id, "message", body.name, body.item_id, variables, ctx.now())
        taken = await deliver_event(conn, ctx.store, asked)
    return {"name": body.name, "delivered_to": taken}


@router.post("/signals", response_model=EventDelivery)
async def send_signal(ctx: CtxDep, body: SignalBody) -> dict[str, Any]:
    """Broadcast a BPMN signal to every process of the tenant that waits for it (admins); answers how many
    took it."""
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        asked = DeliverEvent(ctx.tenant_id, "signal", body.name, None, dict(body.variables), ctx.now())
        taken = await deliver_event(conn, ctx.store, asked)
    return {"name": body.name, "delivered_to": taken}
