"""When a process template starts on its own: on create, or on a change that makes its condition hold."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, model_validator

from automation.domain.conditions import Condition, holds


class StartRule(BaseModel):
    """``manual``: only through the API. ``on_create``: when an item of the type is created (and the
    condition holds). ``on_change``: when a change makes the condition hold that did not hold before,
    e.g. status changed to "In progress"; with ``was``, only if ``was`` held before the change, e.g.
    status changed *from "Imported"* to "In progress" (a company reopened from "Rejected" to "In
    progress" does not start the onboarding again)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["manual", "on_create", "on_change"] = "manual"
    condition: Condition | None = None
    was: Condition | None = None

    @model_validator(mode="after")
    def _was_is_about_a_change(self) -> StartRule:
        if self.was is not None and self.mode != "on_change":
            raise ValueError("only an on_change start has a `was` condition")
        return self

    def fires(self, before: dict[str, Any] | None, after: dict[str, Any]) -> bool:
        """Does this change (``before`` None: the item was created) start a process?"""
        if self.mode == "manual" or (self.mode == "on_create") != (before is None):
            return False
        if not holds(self.condition, after):
            return False
        if before is None:
            return True
        return not holds(self.condition, before) and (self.was is None or holds(self.was, before))
