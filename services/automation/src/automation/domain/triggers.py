"""Triggers: something outside happens, the item moves to the trigger's stage."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from automation.domain.conditions import FieldCondition


class TriggerSpec(BaseModel):
    """``webhook``: a secret URL moves the item named in the call. ``field_value``: the item's field
    reaches a value (``when``), checked on every change of that field."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pipeline_id: str = Field(min_length=1)
    stage_id: str = Field(min_length=1)
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["webhook", "field_value"]
    when: FieldCondition | None = None
    enabled: bool = True

    @model_validator(mode="after")
    def _field_triggers_say_when(self) -> TriggerSpec:
        if (self.kind == "field_value") != (self.when is not None):
            raise ValueError("a field_value trigger needs `when`; a webhook trigger has none")
        return self
