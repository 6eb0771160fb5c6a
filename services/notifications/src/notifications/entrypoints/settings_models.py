"""Response bodies of /v1/preferences and /v1/settings."""

from __future__ import annotations

from conveyor_contracts.notifications import Language
from conveyor_kit.api_models import ApiModel
from pydantic import ConfigDict, Field

from notifications.domain.preferences import Channel


class NotificationPreferences(ApiModel):
    """The caller's language and channels per kind of notification, with the defaults that apply otherwise."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "language": "ru",
                    "channels": {"stage_changed": ["in_app", "email"], "*": ["in_app"]},
                    "defaults": {"*": ["in_app"], "reminder": ["in_app", "email"]},
                    "time_zone": "Europe/Moscow",
                }
            ]
        },
    )

    language: Language
    channels: dict[str, list[Channel]] = Field(
        description='the caller\'s choice per kind of notification (`"*"`: any other kind)'
    )
    defaults: dict[str, list[Channel]] = Field(description="what applies to a kind the caller did not choose for")
    time_zone: str | None = Field(
        description="the IANA zone the caller's calendar entries are made in unless they name one; null: none "
        "chosen (an entry's time without an offset is then refused unless the entry names its zone)"
    )


class NotificationTenantSettings(ApiModel):
    """The tenant's notification switches (admins only)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "tenant_id": "acme",
                    "stage_change_notifications": True,
                    "webhook_secret": "whsec_Q2x8vR1mT0bKp4ZsY7nW3eHdLfJc9uAg6iOq5yXr",
                }
            ]
        },
    )

    tenant_id: str
    stage_change_notifications: bool = Field(description="tell items' assignees and observers when an item moves")
    webhook_secret: str = Field(description="signs the calls `CallWebhook` commands make")
