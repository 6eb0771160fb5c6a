"""Triggers: something outside happens, the item moves to the trigger's stage."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from conveyor_contracts.notifications import CalendarEntryKind
from pydantic import BaseModel, ConfigDict, Field, model_validator

from automation.domain.conditions import FieldCondition

TriggerKind = Literal["webhook", "field_value", "process_step", "calendar_entry_held", "idle"]
MAX_IDLE = timedelta(days=3650)


class TriggerSpec(BaseModel):
    """``webhook``: a secret URL moves the item named in the call. ``field_value``: the item's field
    reaches a value (``when``), checked on every change of that field. ``process_step``: a process of
    the item (of ``template_id``, or any) reaches the BPMN task or event ``step`` (its id or its name).
    ``calendar_entry_held``: a calendar entry of the item (of ``entry_kind``, or any) reaches its end
    without having been cancelled. ``idle``: the item has sat on ``from_stage_id`` without any change
    for ``days`` (and ``hours``): "no change for N days" moves it out to the trigger's stage."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pipeline_id: str = Field(min_length=1)
    stage_id: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=200)
    kind: TriggerKind
    when: FieldCondition | None = None
    step: str | None = Field(default=None, min_length=1, max_length=200)
    template_id: str | None = Field(default=None, min_length=1)
    entry_kind: CalendarEntryKind | None = None
    from_stage_id: str | None = Field(default=None, min_length=1)
    days: int | None = Field(default=None, ge=0, le=MAX_IDLE.days)
    hours: int | None = Field(default=None, ge=0, le=MAX_IDLE.days * 24)
    enabled: bool = True

    @property
    def idle_for(self) -> timedelta:
        """How long an idle trigger's item must sit unchanged (zero for other kinds)."""
        return timedelta(days=self.days or 0, hours=self.hours or 0)

    @model_validator(mode="after")
    def _each_kind_says_what_it_needs(self) -> TriggerSpec:
        if (self.kind == "field_value") != (self.when is not None):
            raise ValueError("a field_value trigger needs `when`, and only it has one")
        if (self.kind == "process_step") != (self.step is not None):
            raise ValueError("a process_step trigger needs `step`, and only it has one")
        if self.template_id is not None and self.kind != "process_step":
            raise ValueError("only a process_step trigger names a `template_id`")
        if self.entry_kind is not None and self.kind != "calendar_entry_held":
            raise ValueError("only a calendar_entry_held trigger names an `entry_kind`")
        return self._idle_names_its_stage_and_time()

    def _idle_names_its_stage_and_time(self) -> TriggerSpec:
        idle_fields = (self.from_stage_id, self.days, self.hours)
        if self.kind != "idle":
            if any(value is not None for value in idle_fields):
                raise ValueError("only an idle trigger names `from_stage_id`, `days` or `hours`")
            return self
        if self.from_stage_id is None:
            raise ValueError("an idle trigger needs `from_stage_id`: the stage where the item sits unchanged")
        if self.from_stage_id == self.stage_id:
            raise ValueError("an idle trigger moves the item out of `from_stage_id`: `stage_id` must be another stage")
        if not timedelta(0) < self.idle_for <= MAX_IDLE:
            raise ValueError("an idle trigger needs `days` and/or `hours`: more than nothing, at most 3650 days")
        return self
