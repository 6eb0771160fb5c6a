"""Time reports: time per business-process step and per value of a list field, under /v1/reports like the
others. JSON or CSV like the reports, only the caller's tenant and the items their rights let them read.

They were first published under /v1/analytics; those paths stay as deprecated aliases (the same handlers),
so clients written against them keep working while new ones use one prefix for every report."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from conveyor_kit.openapi import problem_responses, text_body
from conveyor_kit.problems import Problem
from fastapi import APIRouter, Query, Request, Response

from reporting.adapters import analytics_fields, analytics_process
from reporting.domain.periods import OpenPeriod, Period
from reporting.entrypoints.analytics import From, To, reading
from reporting.entrypoints.deps import CtxDep, EntityTypeIdOrCode
from reporting.entrypoints.render import render
from reporting.entrypoints.time_report_models import FieldTimeReport, ProcessStepsReport

router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=problem_responses(404))
legacy_router = APIRouter(prefix="/v1/analytics", tags=["reports"], responses=problem_responses(404), deprecated=True)

Code = Annotated[str, Query(min_length=1, max_length=200)]
Since = Annotated[date | None, Query(alias="from", description="first day (UTC); none: from the beginning")]
Until = Annotated[date | None, Query(alias="to", description="last day (UTC), included; none: up to now")]


async def process_steps(
    request: Request,
    ctx: CtxDep,
    entity_type_id: EntityTypeIdOrCode,
    template_id: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
    first: From = None,
    last: To = None,
) -> Response:
    """Per template of the entity type and step: time of the steps that began in the period (default the
    last 30 days) and ended; instances waiting there now. CSV: the rows."""
    now = ctx.now()
    period = Period.of(first, last, now.date())
    _ordered(period.first, period.last)
    async with reading(ctx) as conn:
        report = await analytics_process.process_steps(conn, ctx.principal, entity_type_id, template_id, period, now)
    return render(request, report, "process-steps")


async def field_time(
    request: Request,
    ctx: CtxDep,
    entity_type_id: EntityTypeIdOrCode,
    field: Code,
    first: Since = None,
    last: Until = None,
) -> Response:
    """Per value of a list field: items holding it now, and the visits to it that began in the period (every
    visit when no period is given; open visits count up to now). CSV: the values."""
    _ordered(first, last)
    async with reading(ctx) as conn:
        report = await analytics_fields.field_time(
            conn, ctx.principal, entity_type_id, field, OpenPeriod(first, last), ctx.now()
        )
    return render(request, report, "field-time", rows_key="values")


# The deprecated /v1/analytics paths run the same functions and answer the same models; their operations get
# names of their own.
for _router, _suffix in ((router, ""), (legacy_router, "_deprecated")):
    _router.add_api_route(
        "/process-steps", process_steps, methods=["GET"], response_model=ProcessStepsReport,
        responses=text_body("text/csv"),
        operation_id=f"reporting_process_steps{_suffix}",
    )  # fmt: skip
    _router.add_api_route(
        "/field-time", field_time, methods=["GET"], response_model=FieldTimeReport,
        responses=text_body("text/csv"),
        operation_id=f"reporting_field_time{_suffix}",
    )  # fmt: skip


def _ordered(first: date | None, last: date | None) -> None:
    if first is not None and last is not None and first > last:
        raise Problem(422, "Invalid period", "`from` is after `to`", slug="validation-error")
