"""Events the automation service publishes (`conveyor.automation.<aggregate>.<event>.v<N>`).

Each event is an `EventContract` subclass with `type_name=...`; its first docstring line is
the summary shown in docs/asyncapi.yaml. The service's issue adds them with its behaviour.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from conveyor_messaging.contracts import EventContract

RunOutcome = Literal["scheduled", "succeeded", "skipped", "failed", "retrying"]


class RobotSaved(EventContract, type_name="conveyor.automation.robot.saved.v1"):
    """A robot was added to a stage or changed; the robot as it is now."""

    robot_id: str
    pipeline_id: str
    stage_id: str
    name: str
    position: int
    timing: dict[str, Any]
    condition: dict[str, Any] | None
    action: dict[str, Any]
    wait_for_previous: bool
    enabled: bool


class RobotRemoved(EventContract, type_name="conveyor.automation.robot.removed.v1"):
    """A robot was removed from its stage; its pending runs were cancelled."""

    robot_id: str
    pipeline_id: str
    stage_id: str


class TriggerSaved(EventContract, type_name="conveyor.automation.trigger.saved.v1"):
    """A trigger that moves items to its stage was added or changed (its webhook secret never travels)."""

    trigger_id: str
    pipeline_id: str
    stage_id: str
    name: str
    kind: Literal["webhook", "field_value", "process_step", "calendar_entry_held", "idle"]
    config: dict[str, Any]
    enabled: bool


class TriggerRemoved(EventContract, type_name="conveyor.automation.trigger.removed.v1"):
    """A trigger was removed."""

    trigger_id: str


class RunRecorded(EventContract, type_name="conveyor.automation.run.recorded.v1"):
    """A robot run or trigger firing on an item reached an outcome (scheduled, succeeded, skipped, failed...)."""

    run_id: str
    item_id: str
    source_kind: Literal["robot", "trigger", "process"]
    source_id: str
    outcome: RunOutcome
    attempt: int
    detail: str | None = None


class TaskCreated(EventContract, type_name="conveyor.automation.task.created.v1"):
    """A task entered someone's inbox: a user's, or every holder's of a role (resolved when created)."""

    task_id: str
    item_id: str | None
    title: str
    assignee_user_id: str | None
    assignee_role: str | None
    candidate_user_ids: list[str]
    outcomes: list[dict[str, Any]]
    due_at: datetime | None
    source: str  # `robot:<id>` or `process:<id>`


class TaskCompleted(EventContract, type_name="conveyor.automation.task.completed.v1"):
    """A task was completed with one of its outcomes and the values of its form."""

    task_id: str
    item_id: str | None
    outcome: str
    values: dict[str, Any]
    completed_by: str
    overdue: bool


class TaskDelegated(EventContract, type_name="conveyor.automation.task.delegated.v1"):
    """A task was handed to another user."""

    task_id: str
    item_id: str | None
    from_user_id: str | None
    to_user_id: str
    title: str | None = None  # the task's title, for the notice to its new assignee (absent before cancel existed)


class TaskCancelled(EventContract, type_name="conveyor.automation.task.cancelled.v1"):
    """A task was closed without an outcome: its item left the stage, its process went on without it, or a
    person cancelled it."""

    task_id: str
    item_id: str | None
    cause: Literal["item_left_stage", "process_moved_on", "process_ended", "cancelled"]
    cancelled_by: str | None = None  # the user, when `cause` is `cancelled`
    reason: str | None = None  # the canceller's words, if they gave any
    overdue: bool


class ProcessTemplateSaved(EventContract, type_name="conveyor.automation.process_template.saved.v1"):
    """A business process template (BPMN 2.0) got a new version; running instances keep theirs."""

    template_id: str
    version: int
    name: str
    process_id: str
    entity_type_id: str
    start: dict[str, Any]


class ProcessTemplateDisabled(EventContract, type_name="conveyor.automation.process_template.disabled.v1"):
    """A template no longer starts instances (by hand, by its start rule or by a robot); running ones go on."""

    template_id: str
    version: int


class ProcessTemplateEnabled(EventContract, type_name="conveyor.automation.process_template.enabled.v1"):
    """A disabled template starts instances again."""

    template_id: str
    version: int


class ProcessTemplateDeleted(EventContract, type_name="conveyor.automation.process_template.deleted.v1"):
    """A template was deleted: it is no longer listed, read or started; running instances go on."""

    template_id: str
    version: int


class WorkCalendarSaved(EventContract, type_name="conveyor.automation.work_calendar.saved.v1"):
    """A tenant's work calendar changed: working days and hours, time zone and days off, as they are now."""

    version: int
    time_zone: str
    working_days: list[str]
    hours: list[dict[str, str]]  # [{"start": "09:00", "end": "18:00"}], local times of time_zone
    holidays: list[str]  # YYYY-MM-DD
    working_dates: list[str]
    holiday_country: str | None
    holiday_subdivision: str | None


class ProcessStarted(EventContract, type_name="conveyor.automation.process.started.v1"):
    """A business process instance started on an item, on a template version."""

    instance_id: str
    template_id: str
    template_version: int
    item_id: str
    started_by: str  # `user:<id>` (manual) or `system:on_create` / `system:on_change`


class ProcessFinished(EventContract, type_name="conveyor.automation.process.finished.v1"):
    """A business process instance reached an end."""

    instance_id: str
    template_id: str
    item_id: str
    end_event: str | None
