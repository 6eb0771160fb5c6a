"""Response models of the business processes' routes: templates (BPMN 2.0) and their instances."""

from __future__ import annotations

from typing import Literal

from conveyor_kit.api_models import ApiModel, Timestamp
from pydantic import ConfigDict, Field

from automation.domain.process_start import StartRule


class ProcessTemplate(ApiModel):
    """One version of a process template (its BPMN 2.0 XML is at `.../bpmn`)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "c7a1e3b5-2d4f-4a6b-8c9d-0e1f2a3b4c5d",
                    "version": 2,
                    "name": "Client onboarding",
                    "process_id": "onboarding",
                    "entity_type_id": "company",
                    "start": {
                        "mode": "on_change",
                        "condition": {"field": "status", "op": "eq", "value": "In progress"},
                        "was": {"field": "status", "op": "eq", "value": "Imported"},
                    },
                    "created_at": "2026-12-07T08:41:50.123Z",
                }
            ]
        },
    )

    id: str
    version: int = Field(
        description="Every upload of the template adds a version; processes keep the one they started with. Send "
        "it back as `If-Match` when uploading the next."
    )
    name: str
    process_id: str = Field(description="The BPMN `<process>` element's id.")
    entity_type_id: str = Field(description="The type of the items the process runs on.")
    start: StartRule
    created_at: Timestamp = Field(description="When this version was uploaded.")
    status: Literal["enabled", "disabled"] = Field(
        default="enabled",
        description="`disabled`: starts no new instance (by hand: 409 `template-not-startable`; its start rule "
        "and robots' `start_process` neither); running instances go on. `POST .../disable`, `.../enable`.",
    )


class ProcessFailure(ApiModel):
    """The step a failed process stopped at, and why; `POST /v1/processes/{id}/retry` takes it again."""

    model_config = ConfigDict(extra="forbid")

    step_id: str = Field(description="The BPMN element's id (a task, gateway or event).")
    step_name: str = Field(description="The element's name (its id when it has none).")
    error: str = Field(description="What went wrong, e.g. `WorkflowException: No conditions satisfied for gw`.")
    action: str | None = Field(
        default=None, description="For a service task whose action failed when performed: the action (`notify`, ...)."
    )


class ProcessInstance(ApiModel):
    """A process running (or run) on an item."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "e4f5a6b7-c8d9-4e0f-9a1b-2c3d4e5f6a7b",
                    "template_id": "c7a1e3b5-2d4f-4a6b-8c9d-0e1f2a3b4c5d",
                    "template_version": 2,
                    "item_id": "item-4711",
                    "status": "failed",
                    "failure": {
                        "step_id": "wait_for_meeting",
                        "step_name": "Until the meeting",
                        "error": "UnsafeExpression: None is not a number",
                        "action": None,
                    },
                    "started_at": "2026-12-07T09:02:11.004Z",
                    "updated_at": "2026-12-07T15:12:40.517Z",
                }
            ]
        },
    )

    id: str
    template_id: str
    template_version: int = Field(description="The template's version the process runs.")
    item_id: str
    status: str = Field(
        description="`running`, `completed` or `failed` (a step failed: see `failure`; its other branches go on)."
    )
    failure: ProcessFailure | None = Field(default=None, description="While `failed`: the step and the error.")
    started_at: Timestamp
    updated_at: Timestamp = Field(description="When the process last moved on.")
