"""One custom field's history from the item's events: each value it had, who set it and when."""

from __future__ import annotations

from typing import Annotated, Any

from conveyor_access import Action
from conveyor_kit.api_models import ApiModel, Page, Timestamp
from conveyor_kit.openapi import problem_responses
from conveyor_kit.pagination import Cursor, Limit, decode_cursor, invalid_cursor, page_of
from conveyor_messaging.eventstore import RecordedEvent
from fastapi import APIRouter, Path
from pydantic import Field

from entities.adapters import items
from entities.domain.errors import NotFound
from entities.domain.schema import TypeSchema
from entities.entrypoints.deps import CtxDep
from entities.entrypoints.history import author, item_events
from entities.entrypoints.item_models import ItemTimelineActor
from entities.entrypoints.work import guard, unit_of_work
from entities.handlers.schemas import schema_for

router = APIRouter(prefix="/v1/items", tags=["items"], responses=problem_responses(404))


class ItemFieldValue(ApiModel):
    """A value a field took: on the item's creation (its first value or default) or by a change."""

    version: int = Field(description="the item's version the change made")
    event: str = Field(description="created or changed")
    at: Timestamp
    actor: ItemTimelineActor
    value: Any = Field(description="the value from then on (null: cleared), in the stored form")
    label: str | list[str] | None = Field(description="for a list field: the option's label (its label now)")
    correlation_id: str | None


@router.get(
    "/{item_id}/fields/{field_id}/history",
    response_model=Page[ItemFieldValue],
    summary="Each value a custom field had, newest first, with who set it and when",
)
async def field_history(
    ctx: CtxDep,
    item_id: str,
    field_id: Annotated[str, Path(description="the field's code (e.g. `status`) or its id")],
    limit: Limit = 50,
    cursor: Cursor = None,
) -> dict[str, Any]:
    below = _version_key(cursor)
    async with unit_of_work(ctx) as unit:
        row = await items.get_row(unit.conn, unit.tenant_id, item_id)
        if row is None:
            raise NotFound(f"item {item_id} not found")
        item = items.to_item(row)
        await guard(unit, ctx.principal, Action.READ)(item, row["pipeline_id"])
        schema, code = _code_of(await schema_for(unit, item.entity_type_id), field_id)
        values = [v for e in reversed(await item_events(unit, item_id)) if (v := _value(e, code, schema)) is not None]
    newer_first = [v for v in values if below is None or v["version"] < below]
    return page_of(newer_first[: limit + 1], limit, lambda v: v, lambda v: [v["version"]])


def _code_of(schema: TypeSchema | None, field_id: str) -> tuple[TypeSchema, str]:
    """The schema and the code of the visible field named by its code or its id (as `*_type_id`
    parameters take either)."""
    fields = schema.fields.values() if schema is not None else []
    spec = next((f for f in fields if field_id in (f.code, f.field_id)), None)
    if schema is None or spec is None or spec.hidden:
        raise NotFound(f"no field {field_id!r} on this item's entity type")
    return schema, spec.code


def _value(event: RecordedEvent, code: str, schema: TypeSchema) -> dict[str, Any] | None:
    """The field's value an event set, or None when the event did not touch it."""
    kind = event.type.removeprefix("conveyor.entities.item.").rsplit(".", 1)[0]
    if kind == "created" and code in (event.data.get("fields") or {}):
        what, value = "created", event.data["fields"][code]
    elif kind == "updated" and f"fields.{code}" in event.data.get("changes", {}):
        what, value = "changed", event.data["changes"][f"fields.{code}"].get("new")
    else:
        return None
    actor = author(event)
    return {
        "version": event.version,
        "event": what,
        "at": event.occurred_at,
        "actor": {"kind": actor.kind, "id": actor.id},
        "value": value,
        "label": schema.label_of(code, value),
        "correlation_id": event.metadata.get("correlation_id"),
    }


def _version_key(cursor: str | None) -> int | None:
    key = decode_cursor(cursor, 1)
    if key is None:
        return None
    if not isinstance(key[0], int) or isinstance(key[0], bool):
        raise invalid_cursor()
    return key[0]
