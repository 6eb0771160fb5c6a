"""Response bodies of the items API: an item, a page of items, an item's timeline."""

from __future__ import annotations

from typing import Any

from conveyor_kit.api_models import ApiModel, DateOnly, Page, Timestamp
from pydantic import ConfigDict, Field

_ITEM_EXAMPLE: dict[str, Any] = {
    "id": "3f6c2a1e9b7d4c08a5e1f2b3c4d5e6f7",
    "entity_type_id": "8a0c4e2b6d1f4a3c9e7b5d2f1a0c8e6b",
    "version": 2,
    "title": "Teplo LLC",
    "assignee_id": "manager-1",
    "observer_ids": ["head-1"],
    "amount": "1200.50",
    "currency": "RUB",
    "begin_date": "2026-12-01",
    "close_date": None,
    "source": "csv",
    "client_id": "contact-9",
    "fields": {"status": "c41f0a9b2e11", "inn": "7701234567", "industry": "1f4a6b8c0d2e"},
    "labels": {"status": "In progress", "industry": "Housing"},
    "pipeline_id": "p-onboarding",
    "stage_id": "s-documents",
    "stage_semantic": "in_progress",
    "requested_pipeline_id": "p-onboarding",
    "requested_stage_id": None,
    "created_by": "admin-1",
    "created_at": "2026-11-22T09:00:00Z",
    "updated_by": "manager-1",
    "updated_at": "2026-11-22T10:15:42.318204Z",
    "deleted_at": None,
    "deleted_by": None,
}


class EntityItem(ApiModel):
    """An item (a deal, a request, an onboarding case...) of a tenant's entity type; its ETag is its version."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_ITEM_EXAMPLE]})

    id: str
    entity_type_id: str
    version: int = Field(description="the item's version: its number of events; the ETag")
    title: str
    assignee_id: str | None
    observer_ids: list[str] = Field(description="users who follow the item")
    amount: str | None = Field(description='a decimal as a string, e.g. "1200.50"')
    currency: str | None = Field(description="ISO 4217 code of the amount")
    begin_date: DateOnly | None
    close_date: DateOnly | None
    source: str | None = Field(description="where the item came from (csv, web form...)")
    client_id: str | None
    fields: dict[str, Any] = Field(
        description="custom field values by field code (the codes are the entity type's); "
        "list options by their option id, money and decimals as strings"
    )
    labels: dict[str, str | list[str]] = Field(
        description="the label of each list value in `fields`, by field code (a list of labels for a multiple "
        "field, in the order of its option ids); other kinds of fields are not in it"
    )
    pipeline_id: str | None = Field(
        description="the pipeline the item is on, as the pipelines service reported (read as of a time or a "
        "version: the one it was on then)"
    )
    stage_id: str | None = Field(description="its stage there")
    stage_semantic: str | None = Field(description="the stage's meaning: in_progress, success or failure")
    requested_pipeline_id: str | None = Field(description="the pipeline asked for when the item was created")
    requested_stage_id: str | None = Field(description="the stage asked for when the item was created")
    created_by: str
    created_at: Timestamp
    updated_by: str | None
    updated_at: Timestamp | None
    deleted_at: Timestamp | None = Field(description="set while the item is in the recycle bin")
    deleted_by: str | None


ItemPage = Page[EntityItem]


class LinkedItems(ApiModel):
    """Items, each with its own entity type's visible fields (no cursor: up to `limit` of them)."""

    items: list[EntityItem]


class ItemTimelineActor(ApiModel):
    """Who or what made a change: a user over HTTP, or the robot, process or component that sent the command."""

    kind: str = Field(description="user, robot, process or system")
    id: str


class ItemValueChange(ApiModel):
    field: str = Field(description="a system field's name or fields.<code>")
    old: Any = Field(description="the value before (null: none)")
    new: Any = Field(description="the value after (null: cleared)")
    old_label: str | list[str] | None = Field(
        default=None, description="for a list field: the old option's label (its label now); else null"
    )
    new_label: str | list[str] | None = Field(
        default=None, description="for a list field: the new option's label (its label now); else null"
    )


class ItemTimelineEntry(ApiModel):
    version: int = Field(description="the item's version this event made")
    event: str = Field(description="created, changed, deleted, restored or purged")
    at: Timestamp
    actor: ItemTimelineActor
    changes: list[ItemValueChange]
    correlation_id: str | None = Field(description="the request or command that caused the change")


class ItemTimeline(ApiModel):
    """An item's history from its events, oldest first."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "item_id": "3f6c2a1e9b7d4c08a5e1f2b3c4d5e6f7",
                    "entries": [
                        {
                            "version": 1,
                            "event": "created",
                            "at": "2026-11-22T09:00:00Z",
                            "actor": {"kind": "user", "id": "admin-1"},
                            "changes": [
                                {"field": "title", "old": None, "new": "Teplo LLC"},
                                {
                                    "field": "fields.status",
                                    "old": None,
                                    "new": "c41f0a9b2e11",
                                    "old_label": None,
                                    "new_label": "New",
                                },
                            ],
                            "correlation_id": "req-5b1e0c7a",
                        },
                        {
                            "version": 2,
                            "event": "changed",
                            "at": "2026-11-22T10:15:42.318204Z",
                            "actor": {"kind": "process", "id": "onboarding-7"},
                            "changes": [
                                {
                                    "field": "fields.status",
                                    "old": "c41f0a9b2e11",
                                    "new": "0d2b7c5e9f40",
                                    "old_label": "New",
                                    "new_label": "In progress",
                                }
                            ],
                            "correlation_id": "proc-onboarding-7",
                        },
                    ],
                }
            ]
        },
    )

    item_id: str
    entries: list[ItemTimelineEntry]
