"""HTTP: the tenant's work calendar (working days and hours, time zone, days off); admins change it."""

from __future__ import annotations

from typing import Annotated, Any

from conveyor_kit.openapi import problem_responses
from conveyor_kit.versions import expected_version
from fastapi import APIRouter, Header, Response

from automation.adapters import work_calendars
from automation.domain.work_calendar import WorkCalendar
from automation.entrypoints.deps import CtxDep
from automation.entrypoints.work_calendar_models import SavedWorkCalendar
from automation.handlers.work_calendar import save_work_calendar

router = APIRouter(prefix="/v1/work-calendar", tags=["work calendar"], responses=problem_responses(403))


def _answer(saved: work_calendars.SavedCalendar, response: Response) -> dict[str, Any]:
    response.headers["ETag"] = f'"{saved.version}"'
    return {**saved.calendar.model_dump(mode="json"), "version": saved.version, "updated_at": saved.updated_at}


@router.get("", response_model=SavedWorkCalendar)
async def get_work_calendar(ctx: CtxDep, response: Response) -> dict[str, Any]:
    """The calendar robots, timers and due dates count working time on (the default until one is saved)."""
    async with ctx.pool.acquire() as conn:
        saved = await work_calendars.load(conn, ctx.tenant_id)
    return _answer(saved, response)


@router.put("", response_model=SavedWorkCalendar, responses=problem_responses(412, 428))
async def put_work_calendar(
    ctx: CtxDep,
    body: WorkCalendar,
    response: Response,
    # The calendar's ETag as given (`"3"`; `"0"` for the default, never saved); `*` for whatever is there.
    if_match: Annotated[str | None, Header(max_length=40)] = None,
) -> dict[str, Any]:
    """Replace the calendar. Timers already set keep their time; what is scheduled next counts on this one."""
    ctx.require_admin()
    never_saved = if_match is not None and if_match.strip().removeprefix("W/").strip('"') == "0"
    version = 0 if never_saved else expected_version(if_match, required=True)
    async with ctx.pool.acquire() as conn, conn.transaction():
        saved = await save_work_calendar(
            conn, ctx.store, tenant_id=ctx.tenant_id, calendar=body, expected_version=version, actor=ctx.actor,
            now=ctx.now(),
        )  # fmt: skip
    return _answer(saved, response)
