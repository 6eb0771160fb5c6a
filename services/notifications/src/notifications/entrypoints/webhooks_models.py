"""Response bodies of /v1/webhooks: outgoing webhook subscriptions and their delivery log."""

from __future__ import annotations

from typing import Literal

from conveyor_kit.api_models import ApiModel, Timestamp
from pydantic import ConfigDict, Field, JsonValue

SUBSCRIPTION_EXAMPLE: dict[str, JsonValue] = {
    "id": "c4a7e1f2-9b3d-4f6a-8e21-5d0b7c9a1f38",
    "url": "https://hooks.example.com/conveyor",
    "event_types": ["conveyor.pipelines.item.*", "conveyor.notifications.calendar_entry.scheduled.v1"],
    "active": True,
    "consecutive_failures": 0,
    "created_at": "2026-12-07T08:41:50Z",
    "disabled_at": None,
}


class WebhookSubscription(ApiModel):
    """A URL the tenant's events of some types are posted to."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [SUBSCRIPTION_EXAMPLE]})

    id: str
    url: str
    event_types: list[str] = Field(description="exact types, `prefix.*` or `*`")
    active: bool = Field(description="false once disabled after repeated failures (enable it again)")
    consecutive_failures: int = Field(description="deliveries failed in a row since the last success")
    created_at: Timestamp
    disabled_at: Timestamp | None = Field(description="when it was disabled; null while active")


class WebhookSubscriptionCreated(WebhookSubscription):
    """A new subscription, with its signing secret (shown only here)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{**SUBSCRIPTION_EXAMPLE, "secret": "whsec_Q2x8vR1mT0bKp4ZsY7nW3eHdLfJc9uAg6iOq5yXr"}]
        },
    )

    secret: str = Field(description="signs every call (the `Conveyor-Signature` header); keep it")


class WebhookAttempt(ApiModel):
    """One try to deliver an event."""

    attempt: int = Field(description="1 for the first try")
    at: Timestamp
    status_code: int | None = Field(description="the receiver's HTTP status; null when no answer came")
    error: str | None = Field(description="why the try failed, if it did")
    duration_ms: float


class WebhookDelivery(ApiModel):
    """One event posted (or being posted) to a subscription's URL, with its attempts."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "e91b5d3a-2c7f-4a08-b6e4-1f9d8c0a7b52",
                    "subscription_id": "c4a7e1f2-9b3d-4f6a-8e21-5d0b7c9a1f38",
                    "url": "https://hooks.example.com/conveyor",
                    "event_type": "conveyor.pipelines.item.moved_to_stage.v1",
                    "status": "delivered",
                    "attempts": 2,
                    "next_attempt_at": "2026-12-07T08:42:20Z",
                    "created_at": "2026-12-07T08:41:50Z",
                    "finished_at": "2026-12-07T08:42:20Z",
                    "attempts_log": [
                        {
                            "attempt": 1,
                            "at": "2026-12-07T08:41:50Z",
                            "status_code": 503,
                            "error": None,
                            "duration_ms": 41.7,
                        },
                        {
                            "attempt": 2,
                            "at": "2026-12-07T08:42:20Z",
                            "status_code": 200,
                            "error": None,
                            "duration_ms": 38.2,
                        },
                    ],
                }
            ]
        },
    )

    id: str
    subscription_id: str | None = Field(description="null for a call made by a `CallWebhook` command")
    url: str
    event_type: str
    status: Literal["pending", "delivered", "failed", "cancelled"]
    attempts: int = Field(description="tries made so far")
    next_attempt_at: Timestamp = Field(description="when the next try is due (while pending)")
    created_at: Timestamp
    finished_at: Timestamp | None = Field(description="when it was delivered, failed for good or cancelled")
    attempts_log: list[WebhookAttempt]
