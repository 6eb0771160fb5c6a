"""Response models of the automation log: an item's robot runs and trigger firings, and what is scheduled."""

from __future__ import annotations

from typing import Any

from conveyor_kit.api_models import ApiModel, Timestamp
from pydantic import ConfigDict, Field

_RUN_EXAMPLE: dict[str, Any] = {
    "id": "3c9a4f7e-1b2d-5e6f-8a9b-0c1d2e3f4a5b",
    "item_id": "item-4711",
    "source_kind": "robot",
    "source_id": "5f0c6d0e-3b8a-4d52-9a51-2f7f0f3c9e41",
    "source_name": "Remind the assignee after two days",
    "status": "succeeded",
    "attempts": 1,
    "due_at": "2026-12-09T08:00:00Z",
    "error": None,
    "detail": {"recipient_ids": ["maria"], "body": "ACME Ltd has waited two days for an answer."},
    "created_at": "2026-12-07T08:00:00.412Z",
    "finished_at": "2026-12-09T08:00:01.108Z",
}


class AutomationRun(ApiModel):
    """One robot run or trigger firing on an item."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_RUN_EXAMPLE]})

    id: str
    item_id: str
    source_kind: str = Field(description="What ran: `robot` or `trigger`.")
    source_id: str = Field(description="The robot's or trigger's id.")
    source_name: str = Field(description="The robot's or trigger's name when it ran.")
    status: str = Field(
        description="`scheduled`, `running`, `succeeded`, `skipped` (with `detail.reason`), `retrying`, `failed` or "
        "`cancelled`."
    )
    attempts: int
    due_at: Timestamp | None = Field(description="When it was (or is) due to run.")
    error: str | None = Field(description="The last attempt's error, if it raised.")
    detail: dict[str, Any] = Field(
        description="What the run did or why it did not, by action (e.g. `recipient_ids` and `body` of a "
        "notification, `to_stage_id` of a move, `reason` of a skip, `next_attempt_at` of a retry). An e-mail or a "
        "webhook call has `delivery`: `status` `pending` until the notifications service tells how it ended, then "
        "`delivered` or `failed` with `at` and `error` (a failed one fails the run)."
    )
    created_at: Timestamp
    finished_at: Timestamp | None


class ScheduledRun(ApiModel):
    """A robot or trigger due later during the item's current visit to its stage."""

    robot_id: str | None = Field(description="The robot due; null for a trigger.")
    trigger_id: str | None = Field(description="The (idle) trigger due; null for a robot.")
    run_id: str | None = Field(description="The robot's run (its entry in `runs` once it has one); null for a trigger.")
    due_at: Timestamp


class AutomationLog(ApiModel):
    """What ran on the item (oldest first) and what is scheduled for its current visit to a stage."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "item_id": "item-4711",
                    "stage_id": "proposal",
                    "runs": [_RUN_EXAMPLE],
                    "scheduled": [
                        {
                            "robot_id": "7e2b9c40-5a1d-4f3e-b6c8-9d0a1b2c3d4e",
                            "trigger_id": None,
                            "run_id": "8a7b6c5d-4e3f-5a2b-9c1d-0e9f8a7b6c5d",
                            "due_at": "2026-12-14T08:00:00Z",
                        }
                    ],
                }
            ]
        },
    )

    item_id: str
    stage_id: str | None = Field(description="The item's stage now (as automation last heard); null if unknown.")
    runs: list[AutomationRun]
    scheduled: list[ScheduledRun]
