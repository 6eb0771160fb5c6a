"""Response model of the task inbox's routes."""

from __future__ import annotations

from typing import Any

from conveyor_kit.api_models import ApiModel, Timestamp
from pydantic import ConfigDict, Field

from automation.domain.tasks import FormField, Outcome


class InboxTask(ApiModel):
    """A task for a person or a role's holders, created by a robot or a process's user task; completed
    with its form's values and one of its outcomes."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "id": "b3d1f0a2-9c8e-4f7a-a6b5-4c3d2e1f0a9b",
                    "item_id": "item-4711",
                    "title": "Was a meeting set with ACME Ltd?",
                    "description": None,
                    "assignee_user_id": None,
                    "assignee_role": "manager",
                    "candidate_user_ids": ["maria", "tom"],
                    "form": [{"code": "next_call_at", "label": "Next call date", "kind": "datetime", "required": True}],
                    "outcomes": [
                        {"id": "done", "label": "Meeting set", "requires": ["next_call_at"]},
                        {"id": "reject", "label": "Not interested", "requires": []},
                    ],
                    "due_at": "2026-12-08T08:00:00Z",
                    "overdue": False,
                    "status": "completed",
                    "outcome": "done",
                    "values": {"next_call_at": "2026-12-10T14:00:00Z"},
                    "completed_by": "maria",
                    "completed_at": "2026-12-07T15:12:40.517Z",
                    "source": "robot:5f0c6d0e-3b8a-4d52-9a51-2f7f0f3c9e41",
                    "created_at": "2026-12-07T08:00:00.412Z",
                    "created_by": None,
                    "cancelled_at": None,
                    "cancelled_by": None,
                    "cancel_cause": None,
                    "cancel_reason": None,
                }
            ]
        },
    )

    id: str
    item_id: str | None = Field(description="The item the task is about, if any.")
    title: str
    description: str | None
    assignee_user_id: str | None = Field(description="The person the task is for; null for a role's task.")
    assignee_role: str | None = Field(description="The role whose holders may complete it; null for a person's task.")
    candidate_user_ids: list[str] = Field(
        description="Who may complete a role's task (its holders, absent ones replaced by their substitutes)."
    )
    form: list[FormField] = Field(description="The inputs asked for on completion.")
    outcomes: list[Outcome] = Field(description="The buttons that complete it.")
    due_at: Timestamp | None
    overdue: bool = Field(description="Past `due_at` (now, or when it was completed).")
    status: str = Field(
        description="`open`, `completed` or `cancelled` (by a person, or because it became moot: see `cancel_cause`)."
    )
    outcome: str | None = Field(description="The outcome it was completed with.")
    values: dict[str, Any] | None = Field(description="The form's values as completed, by field code.")
    completed_by: str | None
    completed_at: Timestamp | None
    source: str = Field(description="What created it: `robot:<robot_id>` or `process:<instance_id>`.")
    created_at: Timestamp
    created_by: str | None = Field(
        description="The user it was opened for (who started its process by hand); they may cancel it, as admins may."
    )
    cancelled_at: Timestamp | None
    cancelled_by: str | None = Field(description="The user who cancelled it; null when it closed by itself.")
    cancel_cause: str | None = Field(
        description="Why it was cancelled: `item_left_stage` (a robot's task), `process_moved_on` (a boundary event"
        " took over), `process_ended`, or `cancelled` (by a person)."
    )
    cancel_reason: str | None = Field(description="The canceller's words, if any.")
