"""Triggers: something outside happens, the item moves to the trigger's stage."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from automation.domain.conditions import FieldCondition

TriggerKind = Literal["webhook", "field_value", "process_step", "calendar_entry_held"]
EntryKind = Literal["call", "meeting", "reminder", "task", "other"]


class TriggerSpec(BaseModel):
    """``webhook``: a secret URL moves the item named in the call. ``field_value``: the item's field
    reaches a value (``when``), checked on every change of that field. ``process_step``: a process of
    the item (of ``template_id``, or any) reaches the BPMN task or event ``step`` (its id or its name).
    ``calendar_entry_held``: a calendar entry of the item (of ``entry_kind``, or any) reaches its end
    without having been cancelled."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pipeline_id: str = Field(min_length=1)
    stage_id: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=200)
    kind: TriggerKind
    when: FieldCondition | None = None
    step: str | None = Field(default=None, min_length=1, max_length=200)
    template_id: str | None = Field(default=None, min_length=1)
    entry_kind: EntryKind | None = None
    enabled: bool = True

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
        return self
