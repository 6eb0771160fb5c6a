"""Response bodies of /v1/notifications: the caller's in-app inbox."""

from __future__ import annotations

from conveyor_kit.api_models import ApiModel, Timestamp
from pydantic import ConfigDict, Field


class NotificationItemRef(ApiModel):
    """The item a notification or a calendar entry is about."""

    item_id: str
    entity_type_id: str | None = Field(description="the item's entity type, when known")


class InboxNotification(ApiModel):
    """One notification in the caller's inbox."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "6f1d3c2e-8a41-4b7e-9c55-2f0e1a7b9d34",
                    "kind": "reminder",
                    "title": "Call ЖКХ «Дом-7» in 15 minutes",
                    "body": "Call at 10:00 UTC",
                    "item": {"item_id": "3b0c6a52-4f7d-4d8e-a1c2-9e5b7f0d2a61", "entity_type_id": "company"},
                    "source": "reminder:0b8e2f6a-5c1d-4e93-8f27-6a4d1c9b3e05:2026-12-07T09:45:00+00:00",
                    "created_at": "2026-12-07T09:45:00Z",
                    "read": False,
                    "read_at": None,
                }
            ]
        },
    )

    id: str
    kind: str = Field(description="what it is about: `reminder`, `stage_changed` or a kind a command chose")
    title: str
    body: str
    item: NotificationItemRef | None = Field(description="the item it concerns, if any")
    source: str | None = Field(
        description="what it came from: a command's idempotency key, `event:<id>` or `reminder:<entry id>:<due>`"
    )
    created_at: Timestamp
    read: bool
    read_at: Timestamp | None = Field(description="when the caller marked it read; null while unread")


class NotificationUnreadCount(ApiModel):
    unread: int = Field(description="how many of the caller's notifications are unread")


class NotificationsMarkedRead(ApiModel):
    marked: list[str] = Field(description="ids of the notifications this call marked read (not those read before)")
    unread: int = Field(description="how many remain unread")
