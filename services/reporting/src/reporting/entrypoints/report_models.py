"""Response models of the reports under /v1/reports (funnel, stage time, forgotten items, throughput, products,
the registry): the JSON answer of each; ``?format=csv`` answers the ``rows`` as CSV instead."""

from __future__ import annotations

from typing import Literal

from conveyor_kit.api_models import ApiModel, DateOnly, Timestamp
from pydantic import ConfigDict, Field

from reporting.domain.periods import Bucket

__all__ = [
    "AssigneeWins",
    "DepartmentTime",
    "ForgottenItem",
    "ForgottenReport",
    "FunnelReport",
    "FunnelStage",
    "ProductSales",
    "ProductsReport",
    "RegistryCount",
    "RegistryReport",
    "ReportPeriod",
    "StageTime",
    "StageTimeReport",
    "ThroughputBucket",
    "ThroughputReport",
]


class ReportPeriod(ApiModel):
    """The days a report covers (UTC), both included."""

    from_: DateOnly = Field(alias="from", description="First day (UTC).")
    to: DateOnly = Field(description="Last day (UTC), included.")


# --- flow through a pipeline -----------------------------------------------------------------------------------


class FunnelStage(ApiModel):
    stage_id: str
    stage: str = Field(description="The stage's name.")
    semantic: Literal["in_progress", "success", "failure"]
    reached: int = Field(description="Items whose first entry into the stage fell in the period.")
    current: int = Field(description="Items on the stage now, whatever the period.")
    conversion: float | None = Field(
        description="Of the items that first entered the base stage in the period, the share that entered this "
        "stage afterwards (4 places, at most 1). The base of an in-progress or success stage is the in-progress "
        "stage before it, of a failure stage the first stage; null on the first stage or when the base reached "
        "nothing."
    )


class FunnelReport(ApiModel):
    """Per stage of a pipeline, in board order: items that first entered it in the period, items on it now and
    the share of its base stage's items that went on to it."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "pipeline_id": "pl-sales",
                    "period": {"from": "2026-03-01", "to": "2026-03-31"},
                    "rows": [
                        {"stage_id": "st-request", "stage": "Request", "semantic": "in_progress", "reached": 40,
                         "current": 6, "conversion": None},
                        {"stage_id": "st-offer", "stage": "Offer", "semantic": "in_progress", "reached": 22,
                         "current": 9, "conversion": 0.55},
                        {"stage_id": "st-won", "stage": "Won", "semantic": "success", "reached": 11, "current": 0,
                         "conversion": 0.5},
                    ],
                }
            ]
        },
    )  # fmt: skip

    pipeline_id: str
    period: ReportPeriod
    rows: list[FunnelStage]


class StageTime(ApiModel):
    stage_id: str
    stage: str = Field(description="The stage's name.")
    department: str | None = Field(description="The department the stage's time counts toward, if one was set.")
    visits: int = Field(description="Visits that began in the period and have ended.")
    items: int = Field(
        description="Items that made those visits (beyond the exact limit: visits that were their item's first "
        "entry into the stage)."
    )
    mean_s: float | None = Field(description="Mean seconds of a visit; null without visits.")
    median_s: float | None = Field(description="Median seconds; null without visits.")
    p90_s: float | None = Field(description="90th percentile in seconds; null without visits.")
    total_s: float = Field(description="Seconds of all the visits together.")


class DepartmentTime(ApiModel):
    department: str
    total_s: float = Field(description="Seconds of the visits to the department's stages.")


class StageTimeReport(ApiModel):
    """Per stage: visits that began in the period and have ended, their mean, median, p90 and total seconds;
    per department the total; the bottleneck (the stage with the largest median)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "pipeline_id": "pl-sales",
                    "period": {"from": "2026-01-01", "to": "2026-12-31"},
                    "exact": True,
                    "rows": [
                        {"stage_id": "st-request", "stage": "Request", "department": "Sales", "visits": 3,
                         "items": 2, "mean_s": 4800.0, "median_s": 3600.0, "p90_s": 6480.0, "total_s": 14400.0},
                        {"stage_id": "st-offer", "stage": "Offer", "department": None, "visits": 0, "items": 0,
                         "mean_s": None, "median_s": None, "p90_s": None, "total_s": 0.0},
                    ],
                    "departments": [{"department": "Sales", "total_s": 14400.0}],
                    "bottleneck_stage_id": "st-request",
                }
            ]
        },
    )  # fmt: skip

    pipeline_id: str
    period: ReportPeriod
    exact: bool = Field(
        description="True: median and p90 are exact (`percentile_cont`); false (beyond 10,000 visits): "
        "interpolated within a duration bucket."
    )
    rows: list[StageTime]
    departments: list[DepartmentTime]
    bottleneck_stage_id: str | None = Field(description="The stage with the largest median; null without visits.")


class ForgottenItem(ApiModel):
    item_id: str
    title: str
    assignee_id: str | None
    stage_id: str
    stage: str | None = Field(description="The stage's name.")
    last_change: Timestamp = Field(description="The item's last change or entry into its stage, the later one.")
    idle_days: float = Field(description="Days since `last_change` (2 places).")


class ForgottenReport(ApiModel):
    """Items in progress on a stage of the pipeline with no change for `days` days, the longest idle first
    (at most 1,000)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "pipeline_id": "pl-sales",
                    "days": 7,
                    "rows": [
                        {"item_id": "it-4f2a9c", "title": "Acme Ltd: 40 chairs", "assignee_id": "manager-1",
                         "stage_id": "st-offer", "stage": "Offer", "last_change": "2026-02-26T09:12:40Z",
                         "idle_days": 9.5},
                    ],
                }
            ]
        },
    )  # fmt: skip

    pipeline_id: str
    days: int = Field(description="Idle for at least this many days.")
    rows: list[ForgottenItem]


# --- results ----------------------------------------------------------------------------------------------------


class ThroughputBucket(ApiModel):
    period: DateOnly = Field(description="First day of the bucket.")
    created: int
    won: int
    lost: int
    won_amount: str = Field(description="Amount of the items won in the bucket, a decimal as text.")


class AssigneeWins(ApiModel):
    assignee_id: str | None
    won: int = Field(description="Items won in the period.")
    amount: str = Field(description="Their amount, a decimal as text.")
    share: float | None = Field(description="Share of the amount won in the period (4 places); null when nothing was.")


class ThroughputReport(ApiModel):
    """Items created, won and lost per bucket; the amount won per assignee with their share of the total."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "entity_type_id": "et-deal",
                    "period": {"from": "2026-03-02", "to": "2026-03-31"},
                    "bucket": "week",
                    "rows": [
                        {"period": "2026-03-02", "created": 12, "won": 3, "lost": 2, "won_amount": "4250.00"},
                        {"period": "2026-03-09", "created": 9, "won": 1, "lost": 0, "won_amount": "800.00"},
                    ],
                    "won_by_assignee": [
                        {"assignee_id": "manager-1", "won": 3, "amount": "4250.00", "share": 0.8416},
                        {"assignee_id": "manager-2", "won": 1, "amount": "800.00", "share": 0.1584},
                    ],
                }
            ]
        },
    )  # fmt: skip

    entity_type_id: str
    period: ReportPeriod
    bucket: Bucket
    rows: list[ThroughputBucket] = Field(description="Buckets with any item created, won or lost, in order.")
    won_by_assignee: list[AssigneeWins] = Field(description="The largest amount first.")


class ProductSales(ApiModel):
    period: DateOnly = Field(description="First day of the bucket.")
    by: Literal["product", "line"] = Field(
        description="`product`: lines of one catalogue product; `line`: lines of one name."
    )
    key: str = Field(description="The product id, or the line name.")
    name: str = Field(description="The product's name (its id when unknown), or the line name.")
    units: str = Field(description="Quantity sold, a decimal as text.")
    amount: str = Field(description="Price times quantity, a decimal as text.")


class ProductsReport(ApiModel):
    """Units and amount of the lines on deals won in the period, per bucket, per catalogue product and per line
    name."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "entity_type_id": "et-deal",
                    "period": {"from": "2026-03-01", "to": "2026-03-31"},
                    "bucket": "month",
                    "rows": [
                        {"period": "2026-03-01", "by": "line", "key": "Basketball", "name": "Basketball",
                         "units": "3", "amount": "31.50"},
                        {"period": "2026-03-01", "by": "product", "key": "prod-ball", "name": "Ball", "units": "3",
                         "amount": "31.50"},
                    ],
                }
            ]
        },
    )  # fmt: skip

    entity_type_id: str
    period: ReportPeriod
    bucket: Bucket
    rows: list[ProductSales]


class RegistryCount(ApiModel):
    day: DateOnly
    assignee_id: str | None
    value: str | None = Field(description="The field's value as text (an option id for a list field).")
    label: str | None = Field(description="The option's label for a list field, else the value.")
    items: int = Field(description="Items created that day with that assignee and value.")


class RegistryReport(ApiModel):
    """Items created per day, assignee and value of a field (list values with their labels)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "entity_type_id": "et-document",
                    "field": "kind",
                    "period": {"from": "2026-03-01", "to": "2026-03-31"},
                    "rows": [
                        {"day": "2026-03-02", "assignee_id": "manager-a", "value": "opt-contract",
                         "label": "Contract", "items": 3},
                        {"day": "2026-03-02", "assignee_id": None, "value": None, "label": None, "items": 1},
                    ],
                }
            ]
        },
    )  # fmt: skip

    entity_type_id: str
    field: str = Field(description="The field's code.")
    period: ReportPeriod
    rows: list[RegistryCount]
