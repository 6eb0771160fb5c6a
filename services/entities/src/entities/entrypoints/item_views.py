"""Items as the API shows them (JSON), and the request bodies that create and change them."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from entities.domain.item import Item
from entities.domain.schema import TypeSchema


class ItemDraft(BaseModel):
    """A new item: system fields by name, custom values by field code under `fields`."""

    model_config = ConfigDict(extra="forbid")

    entity_type_id: str = Field(max_length=64)
    title: Any = None
    assignee_id: Any = None
    observer_ids: Any = None
    amount: Any = None
    currency: Any = None
    begin_date: Any = None
    close_date: Any = None
    source: Any = None
    client_id: Any = None
    fields: dict[str, Any] = Field(default_factory=dict)
    pipeline_id: str | None = Field(default=None, max_length=64, description="the pipeline asked for")
    stage_id: str | None = Field(default=None, max_length=64, description="the stage asked for")

    def system_values(self) -> dict[str, Any]:
        return self.model_dump(exclude={"entity_type_id", "fields", "pipeline_id", "stage_id"}, exclude_unset=True)


class ItemPatch(BaseModel):
    """A partial change: only the fields sent change; null or "" clears a value."""

    model_config = ConfigDict(extra="forbid")

    title: Any = None
    assignee_id: Any = None
    observer_ids: Any = None
    amount: Any = None
    currency: Any = None
    begin_date: Any = None
    close_date: Any = None
    source: Any = None
    client_id: Any = None
    fields: dict[str, Any] = Field(default_factory=dict)

    def system_values(self) -> dict[str, Any]:
        return self.model_dump(exclude={"fields"}, exclude_unset=True)


def item_json(item: Item, schema: TypeSchema | None, placement: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body of an `EntityItem` (its instants as datetimes: the model writes them)."""
    fields = schema.visible(item.fields) if schema is not None else dict(item.fields)
    labels = schema.labels(item.fields) if schema is not None else {}
    return {
        "id": item.item_id,
        "entity_type_id": item.entity_type_id,
        "version": item.version,
        "title": item.title,
        "assignee_id": item.assignee_id,
        "observer_ids": list(item.observer_ids),
        "amount": item.amount,
        "currency": item.currency,
        "begin_date": item.begin_date,
        "close_date": item.close_date,
        "source": item.source,
        "client_id": item.client_id,
        "fields": fields,
        "labels": labels,
        **(placement or {"pipeline_id": None, "stage_id": None, "stage_semantic": None}),
        "requested_pipeline_id": item.requested_pipeline_id,
        "requested_stage_id": item.requested_stage_id,
        "created_by": item.created_by,
        "created_at": item.created_at,
        "updated_by": item.updated_by,
        "updated_at": item.updated_at,
        "deleted_at": item.deleted_at,
        "deleted_by": item.deleted_by,
    }
