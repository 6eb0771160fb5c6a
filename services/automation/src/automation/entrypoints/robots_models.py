"""Response models of the robots' routes.

A robot answers as it was written (the request's `RobotSpec`) plus its `id` and version: the timing,
condition and action are the domain's own spec models (each refusing undeclared keys, like
`ApiModel`), so the request and the answer share one schema per shape."""

from __future__ import annotations

from conveyor_kit.api_models import ApiModel
from pydantic import ConfigDict, Field

from automation.domain.conditions import Condition
from automation.domain.robots import Action, Timing


class Robot(ApiModel):
    """A robot of a stage: what it does (`action`), when (`timing`) and under which `condition`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "5f0c6d0e-3b8a-4d52-9a51-2f7f0f3c9e41",
                    "version": 3,
                    "pipeline_id": "sales",
                    "stage_id": "proposal",
                    "name": "Remind the assignee after two days",
                    "position": 0,
                    "timing": {"mode": "after_delay", "seconds": 172800, "field": None},
                    "condition": {"field": "amount", "op": "gte", "value": 10000},
                    "action": {
                        "type": "notify",
                        "recipients": [{"kind": "assignee", "id": None}],
                        "title": "Proposal pending",
                        "body": "{{ item.title }} has waited two days for an answer.",
                    },
                    "wait_for_previous": False,
                    "enabled": True,
                }
            ]
        },
    )

    id: str
    version: int = Field(
        description="Grows by one on every change; send it back as `If-Match` to change this version only."
    )
    pipeline_id: str
    stage_id: str = Field(description="The stage whose entries the robot acts on.")
    name: str
    position: int = Field(description="Order among the stage's robots (smaller first).")
    timing: Timing
    condition: Condition | None = Field(description="Runs only when this holds for the item; null: always.")
    action: Action
    wait_for_previous: bool = Field(description="Waits until the robots before it on the stage have finished.")
    enabled: bool
