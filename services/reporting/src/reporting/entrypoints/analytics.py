"""The analytics API under /v1/reports: every report answers JSON (its response model, report_models.py) or
CSV and shows only the caller's tenant and the rows their rights let them read."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import date
from typing import Annotated

from conveyor_kit.openapi import problem_responses, text_body
from conveyor_messaging.db import Connection
from fastapi import APIRouter, Query, Request, Response

from reporting.adapters import analytics_flow, analytics_sales
from reporting.domain.periods import Bucket, Period
from reporting.entrypoints.deps import Ctx, CtxDep, EntityTypeIdOrCode
from reporting.entrypoints.render import render
from reporting.entrypoints.report_models import (
    ForgottenReport,
    FunnelReport,
    ProductsReport,
    RegistryReport,
    StageTimeReport,
    ThroughputReport,
)


@contextlib.asynccontextmanager
async def reading(ctx: Ctx) -> AsyncIterator[Connection]:
    """A read-only transaction for one report, without JIT (its compile time is most of a short query's) and
    with room to sort and hash in memory."""
    async with ctx.pool.acquire() as conn, conn.transaction(readonly=True):
        await conn.execute("SET LOCAL jit = off; SET LOCAL work_mem = '64MB'")
        yield conn


router = APIRouter(prefix="/v1/reports", tags=["reports"], responses=problem_responses(404))

From = Annotated[date | None, Query(alias="from", description="first day (UTC), default 30 days before `to`")]
To = Annotated[date | None, Query(alias="to", description="last day (UTC), included; default today")]
Per = Annotated[Bucket, Query(description="day, week or month")]


@router.get("/funnel", response_model=FunnelReport, responses=text_body("text/csv"))
async def funnel(request: Request, ctx: CtxDep, pipeline_id: str, first: From = None, last: To = None) -> Response:
    period = Period.of(first, last, ctx.now().date())
    async with reading(ctx) as conn:
        return render(request, await analytics_flow.funnel(conn, ctx.principal, pipeline_id, period), "funnel")


@router.get("/stage-time", response_model=StageTimeReport, responses=text_body("text/csv"))
async def stage_time(request: Request, ctx: CtxDep, pipeline_id: str, first: From = None, last: To = None) -> Response:
    period = Period.of(first, last, ctx.now().date())
    async with reading(ctx) as conn:
        return render(request, await analytics_flow.stage_time(conn, ctx.principal, pipeline_id, period), "stage-time")


@router.get("/forgotten", response_model=ForgottenReport, responses=text_body("text/csv"))
async def forgotten(
    request: Request, ctx: CtxDep, pipeline_id: str, days: Annotated[int, Query(ge=1, le=3650)] = 7
) -> Response:
    async with reading(ctx) as conn:
        report = await analytics_flow.forgotten(conn, ctx.principal, pipeline_id, days, ctx.now())
    return render(request, report, "forgotten")


@router.get("/throughput", response_model=ThroughputReport, responses=text_body("text/csv"))
async def throughput(
    request: Request,
    ctx: CtxDep,
    entity_type_id: EntityTypeIdOrCode,
    first: From = None,
    last: To = None,
    per: Per = Bucket.DAY,
) -> Response:
    period = Period.of(first, last, ctx.now().date())
    async with reading(ctx) as conn:
        report = await analytics_sales.throughput(conn, ctx.principal, entity_type_id, period, per)
    return render(request, report, "throughput")


@router.get("/products", response_model=ProductsReport, responses=text_body("text/csv"))
async def products(
    request: Request,
    ctx: CtxDep,
    entity_type_id: EntityTypeIdOrCode,
    first: From = None,
    last: To = None,
    per: Per = Bucket.DAY,
) -> Response:
    period = Period.of(first, last, ctx.now().date())
    async with reading(ctx) as conn:
        report = await analytics_sales.products(conn, ctx.principal, entity_type_id, period, per)
    return render(request, report, "products")


@router.get("/registry", response_model=RegistryReport, responses=text_body("text/csv"))
async def registry(
    request: Request, ctx: CtxDep, entity_type_id: EntityTypeIdOrCode, field: str, first: From = None, last: To = None
) -> Response:
    period = Period.of(first, last, ctx.now().date())
    async with reading(ctx) as conn:
        report = await analytics_sales.registry(conn, ctx.principal, entity_type_id, field, period)
    return render(request, report, "registry")
