"""Response models of the triggers' routes and of the webhook call."""

from __future__ import annotations

from typing import Any

from conveyor_contracts.notifications import CalendarEntryKind
from conveyor_kit.api_models import ApiModel
from pydantic import ConfigDict, Field

from automation.domain.conditions import FieldCondition
from automation.domain.triggers import TriggerKind

_EXAMPLE: dict[str, Any] = {
    "id": "9d1e7a52-6c1b-4f0e-8a43-0b7c2d5e8f10",
    "version": 1,
    "pipeline_id": "sales",
    "stage_id": "paid",
    "name": "Payment received",
    "kind": "webhook",
    "when": None,
    "step": None,
    "template_id": None,
    "entry_kind": None,
    "from_stage_id": None,
    "days": None,
    "hours": None,
    "enabled": True,
}


class StageTrigger(ApiModel):
    """A trigger: when something happens outside (`kind`), the item moves to the trigger's stage. Each
    kind fills its own fields (see `TriggerSpec`); the others are null."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_EXAMPLE]})

    id: str
    version: int = Field(
        description="Grows by one on every change; send it back as `If-Match` to change this version only."
    )
    pipeline_id: str
    stage_id: str = Field(description="Where the trigger moves the item.")
    name: str
    kind: TriggerKind
    when: FieldCondition | None = Field(description="`field_value`: the value the field reaches.")
    step: str | None = Field(description="`process_step`: the BPMN task or event reached (id or name).")
    template_id: str | None = Field(description="`process_step`: only processes of this template; null: any.")
    entry_kind: CalendarEntryKind | None = Field(
        description="`calendar_entry_held`: only entries of this kind; null: any."
    )
    from_stage_id: str | None = Field(description="`idle`: the stage where the item sits unchanged.")
    days: int | None = Field(description="`idle`: days without a change (with `hours`).")
    hours: int | None = Field(description="`idle`: hours without a change (with `days`).")
    enabled: bool


class StageTriggerWithHook(StageTrigger):
    """A trigger just created, with its secret URL (shown this once)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {**_EXAMPLE, "webhook_path": "/v1/hooks/9d1e7a52-6c1b-4f0e-8a43-0b7c2d5e8f10/3q2-Xs9tVbQ1kR7mZ4pL"}
            ]
        },
    )

    webhook_path: str = Field(
        description="The path an outside system POSTs to (the secret in it is the credential; it is not shown again)."
    )


class HookAccepted(ApiModel):
    """A webhook call accepted: the item moves to the trigger's stage."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"run_id": "0b6f3c1e-7d2a-5e8b-9c4f-1a2b3c4d5e6f"}]}
    )

    run_id: str = Field(description="The firing's entry in the item's automation log.")
