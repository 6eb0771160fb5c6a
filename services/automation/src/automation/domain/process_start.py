"""When a process template starts on its own: on create, or on a change that makes its condition hold."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

from automation.domain.conditions import Condition


class StartRule(BaseModel):
    """``manual``: only through the API. ``on_create``: when an item of the type is created (and the
    condition holds). ``on_change``: when a change makes the condition hold that did not hold before,
    e.g. status changed from "Imported" to "In progress"."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["manual", "on_create", "on_change"] = "manual"
    condition: Condition | None = None
