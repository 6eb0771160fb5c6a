"""Response models of the time reports (process steps, field time), under /v1/reports and their deprecated
/v1/analytics aliases alike."""

from __future__ import annotations

from conveyor_kit.api_models import ApiModel, DateOnly, Timestamp
from pydantic import ConfigDict, Field

from reporting.entrypoints.report_models import ReportPeriod

__all__ = ["FieldTimeReport", "FieldValueTime", "OpenReportPeriod", "ProcessStepTime", "ProcessStepsReport"]

_EXACT = (
    "True: median and p90 are exact (`percentile_cont`); false (beyond 10,000 durations): interpolated within a "
    "duration bucket."
)


class ProcessStepTime(ApiModel):
    template_id: str
    template: str = Field(description="The template's name (of its newest version).")
    step: str | None = Field(description="The task's title; null: running instances waiting at no task.")
    visits: int = Field(description="Steps that began in the period and have ended.")
    total_seconds: float
    mean_seconds: float | None = Field(description="Null without ended steps.")
    median_seconds: float | None = Field(description="Null without ended steps.")
    p90_seconds: float | None = Field(description="Null without ended steps.")
    waiting: int = Field(description="Running instances waiting here now, whatever the period.")
    oldest_waiting_since: Timestamp | None = Field(description="Since when the longest waiting one waits.")
    oldest_waiting_seconds: float | None = Field(description="How long it has waited, up to the service clock.")


class ProcessStepsReport(ApiModel):
    """Per business-process template of the entity type and step: time of the steps that began in the period
    and ended; instances waiting there now."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "entity_type_id": "et-company",
                    "template_id": None,
                    "period": {"from": "2026-03-01", "to": "2026-03-31"},
                    "exact": True,
                    "rows": [
                        {"template_id": "tpl-onboarding", "template": "Onboarding", "step": "Was a meeting set?",
                         "visits": 5, "total_seconds": 34200.0, "mean_seconds": 6840.0, "median_seconds": 7200.0,
                         "p90_seconds": 10800.0, "waiting": 0, "oldest_waiting_since": None,
                         "oldest_waiting_seconds": None},
                        {"template_id": "tpl-onboarding", "template": "Onboarding", "step": None, "visits": 0,
                         "total_seconds": 0.0, "mean_seconds": None, "median_seconds": None, "p90_seconds": None,
                         "waiting": 1, "oldest_waiting_since": "2026-03-02T17:00:00Z",
                         "oldest_waiting_seconds": 7200.0},
                    ],
                }
            ]
        },
    )  # fmt: skip

    entity_type_id: str
    template_id: str | None = Field(description="The template asked for; null: every template of the type.")
    period: ReportPeriod
    exact: bool = Field(description=_EXACT)
    rows: list[ProcessStepTime]


class OpenReportPeriod(ApiModel):
    """The days a report covers (UTC), both included; a day left out leaves that end open."""

    from_: DateOnly | None = Field(alias="from", description="First day (UTC); null: from the beginning.")
    to: DateOnly | None = Field(description="Last day (UTC), included; null: up to now.")


class FieldValueTime(ApiModel):
    value: str = Field(description="The field's value (an option id).")
    current_items: int = Field(description="Items out of the recycle bin holding the value now.")
    visits: int = Field(description="Visits to the value that began in the period (open ones too).")
    total_seconds: float
    mean_seconds: float | None = Field(description="Null without visits.")
    median_seconds: float | None = Field(description="Null without visits.")
    p90_seconds: float | None = Field(description="Null without visits.")


class FieldTimeReport(ApiModel):
    """Per value of a list field: items holding it now, and the visits to it that began in the period (every
    visit when no period is given; open visits count up to now)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "entity_type_id": "et-company",
                    "field": "status",
                    "period": {"from": None, "to": None},
                    "exact": True,
                    "values": [
                        {"value": "opt-imported", "current_items": 1, "visits": 4, "total_seconds": 34200.0,
                         "mean_seconds": 8550.0, "median_seconds": 8100.0, "p90_seconds": 12780.0},
                        {"value": "opt-qualified", "current_items": 3, "visits": 3, "total_seconds": 5400.0,
                         "mean_seconds": 1800.0, "median_seconds": 1800.0, "p90_seconds": 2520.0},
                    ],
                    "labels": {"opt-imported": "Imported", "opt-qualified": "Qualified"},
                }
            ]
        },
    )  # fmt: skip

    entity_type_id: str
    field: str = Field(description="The field's code.")
    period: OpenReportPeriod
    exact: bool = Field(description=_EXACT)
    values: list[FieldValueTime]
    labels: dict[str, str] = Field(
        description="Per value in `values`, the option's label (the value itself when it is not one of the "
        "field's own options)."
    )
