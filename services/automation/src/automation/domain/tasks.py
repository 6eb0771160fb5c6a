"""Tasks for people: a form to fill in and outcome buttons; what a completion must carry."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from automation.domain.work_calendar import WorkCalendar
from automation.domain.working_time import add_working_time


class FormField(BaseModel):
    """One input of a task's form, e.g. "next call date" (``datetime``)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str = Field(min_length=1, max_length=100, pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1, max_length=200)
    kind: Literal["string", "text", "number", "date", "datetime", "boolean"] = "string"
    required: bool = False


class Outcome(BaseModel):
    """A button that completes the task, e.g. ``{"id": "reject", "label": "Reject", "requires": []}``;
    ``requires`` names form fields that must be filled for this outcome."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(min_length=1, max_length=100)
    label: str = Field(min_length=1, max_length=200)
    requires: list[str] = Field(default_factory=list)


DEFAULT_OUTCOMES = [Outcome(id="done", label="Done")]


def due_at(now: datetime, due_in_seconds: int | None, calendar: WorkCalendar | None = None) -> datetime | None:
    """When a task opened at ``now`` is due: ``due_in_seconds`` later, in working time on ``calendar``
    when one is given (a task "due in 4 working hours" opened on Friday at 16:00 is due on Monday)."""
    if due_in_seconds is None:
        return None
    if calendar is None:
        return now + timedelta(seconds=due_in_seconds)
    return add_working_time(calendar, now, timedelta(seconds=due_in_seconds))


class CompletionRefused(ValueError):
    """The outcome or the form's values do not fit the task; ``errors`` name the fields."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(e["message"] for e in errors))
        self.errors = errors


def check_completion(form: list[FormField], outcomes: list[Outcome], outcome: str, values: dict[str, Any]) -> None:
    errors: list[dict[str, str]] = []
    chosen = next((o for o in outcomes if o.id == outcome), None)
    if chosen is None:
        errors.append({"field": "/outcome", "message": f"choose one of {', '.join(o.id for o in outcomes)}"})
    fields = {f.code: f for f in form}
    for code in values:
        if code not in fields:
            errors.append({"field": f"/values/{code}", "message": "no such field on this task's form"})
    needed = {f.code for f in form if f.required} | set(chosen.requires if chosen else [])
    for code in sorted(needed):
        if values.get(code) in (None, ""):
            errors.append({"field": f"/values/{code}", "message": "required"})
    for code, value in values.items():
        spec = fields.get(code)
        if spec is None or value in (None, ""):
            continue
        if spec.kind in ("date", "datetime") and not _instant(value):
            errors.append({"field": f"/values/{code}", "message": "not a date"})
        if spec.kind == "number" and not isinstance(value, int | float):
            errors.append({"field": f"/values/{code}", "message": "not a number"})
        if spec.kind == "boolean" and not isinstance(value, bool):
            errors.append({"field": f"/values/{code}", "message": "not true or false"})
    if errors:
        raise CompletionRefused(errors)


def _instant(value: Any) -> bool:
    from datetime import datetime

    try:
        datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return True
