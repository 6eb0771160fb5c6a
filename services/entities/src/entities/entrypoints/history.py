"""An item's history from its events: the timeline of changes, and the item as it was."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from conveyor_access import Action
from conveyor_kit.openapi import problem_responses
from conveyor_messaging.actor import Actor
from conveyor_messaging.eventstore import RecordedEvent
from fastapi import APIRouter

from entities.adapters import items, placement_history
from entities.domain.errors import NotFound
from entities.domain.item import Item, fold
from entities.domain.schema import TypeSchema
from entities.entrypoints.deps import CtxDep
from entities.entrypoints.item_models import ItemTimeline
from entities.entrypoints.work import guard, unit_of_work
from entities.handlers.schemas import schema_for
from entities.handlers.unit import Unit

router = APIRouter(prefix="/v1/items", tags=["items"], responses=problem_responses(404))

_WHAT = {"created": "created", "updated": "changed", "deleted": "deleted", "restored": "restored", "purged": "purged"}


async def item_events(unit: Unit, item_id: str) -> list[RecordedEvent]:
    """The item's own events, oldest first."""
    events = await unit.store.read_stream(unit.conn, item_id, tenant_id=unit.tenant_id)
    return [e for e in events if e.type.startswith("conveyor.entities.item.")]


def author(event: RecordedEvent) -> Actor:
    return Actor.parse(event.metadata.get("actor", "system:unknown"))


async def item_as_it_was(
    unit: Unit, item_id: str, *, as_of: datetime | None, version: int | None
) -> tuple[Item, dict[str, Any]]:
    """The item folded from its events up to a version and/or an instant, and where it stood then: at
    `as_of`, or for a version, the last placement before the item's next version (now if none)."""
    events = await item_events(unit, item_id)
    then = [
        e for e in events if (version is None or e.version <= version) and (as_of is None or e.occurred_at <= as_of)
    ]
    past = fold((e.type, e.data, e.occurred_at, e.version, _by(e)) for e in then)
    if past is None or (version is not None and past.version != version):
        raise NotFound("the item did not exist then")
    next_change = next((e.occurred_at for e in events if e.version > past.version), None)
    placement = await placement_history.placement_then(
        unit.conn, unit.tenant_id, item_id, at_or_before=as_of, before=next_change
    )
    return past, placement


def _by(event: RecordedEvent) -> str:
    actor = author(event)
    return actor.id if actor.kind == "user" else str(actor)


def entry(event: RecordedEvent, schema: TypeSchema | None = None) -> dict[str, Any]:
    """One line of the timeline: what happened, what changed (old → new, list values with their labels),
    who or what, when."""
    kind = event.type.removeprefix("conveyor.entities.item.").rsplit(".", 1)[0]
    data = event.data
    if kind == "created":
        values = {k: v for k, v in data.items() if k not in ("item_id", "entity_type_id", "fields", "created_by")}
        values.update({f"fields.{code}": v for code, v in (data.get("fields") or {}).items()})
        changes = [{"field": k, "old": None, "new": v} for k, v in values.items() if v not in (None, [], {})]
    elif kind == "updated":
        changes = [{"field": k, "old": c.get("old"), "new": c.get("new")} for k, c in data["changes"].items()]
    else:
        changes = []
    actor = author(event)
    return {
        "version": event.version,
        "event": _WHAT.get(kind, kind),
        "at": event.occurred_at,
        "actor": {"kind": actor.kind, "id": actor.id},
        "changes": [_labelled(change, schema) for change in changes],
        "correlation_id": event.metadata.get("correlation_id"),
    }


def _labelled(change: dict[str, Any], schema: TypeSchema | None) -> dict[str, Any]:
    code = change["field"].removeprefix("fields.")
    if schema is None or code == change["field"]:
        return change
    old, new = schema.label_of(code, change["old"]), schema.label_of(code, change["new"])
    return {**change, "old_label": old, "new_label": new}


@router.get(
    "/{item_id}/timeline",
    response_model=ItemTimeline,
    summary="What changed, old and new values, who or what did it, and when",
)
async def timeline(ctx: CtxDep, item_id: str) -> dict[str, Any]:
    async with unit_of_work(ctx) as unit:
        row = await items.get_row(unit.conn, unit.tenant_id, item_id)
        if row is None:
            raise NotFound(f"item {item_id} not found")
        item = items.to_item(row)
        await guard(unit, ctx.principal, Action.READ)(item, row["pipeline_id"])
        schema = await schema_for(unit, item.entity_type_id)
        return {"item_id": item_id, "entries": [entry(e, schema) for e in await item_events(unit, item_id)]}
