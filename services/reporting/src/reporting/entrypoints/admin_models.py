"""Response models of the administration routes: the departments stages count toward, and a rebuild's
summary."""

from __future__ import annotations

from conveyor_kit.api_models import ApiModel
from pydantic import ConfigDict, Field

__all__ = ["ProjectionsRebuilt", "StageDepartmentAssignment"]


class StageDepartmentAssignment(ApiModel):
    """The department whose time a stage's visits count toward (stage-time report, per-department totals)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"stage_id": "st-invoice", "department": "Finance"}]}
    )

    stage_id: str
    department: str


class ProjectionsRebuilt(ApiModel):
    """What a rebuild of every projection from the journal did."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"events": 182340, "seconds": 41.627}]})

    events: int = Field(description="Journal events replayed into the new tables.")
    seconds: float = Field(description="How long the rebuild took (3 places).")
