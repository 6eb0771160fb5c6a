"""HTTP: an item's automation log (every robot run and trigger firing) and retrying a failed run."""

from __future__ import annotations

from typing import Any

from conveyor_kit.openapi import problem_responses
from conveyor_kit.problems import not_found
from conveyor_timers import pending
from fastapi import APIRouter

from automation.adapters import items, runs
from automation.adapters.access import may_read
from automation.domain.robot_timers import idle_group, visit_group
from automation.entrypoints.deps import CtxDep
from automation.entrypoints.log_models import AutomationLog, AutomationRun
from automation.handlers.retry_run import retry_run

router = APIRouter(prefix="/v1", tags=["automation log"], responses=problem_responses(403, 404, 409))


def run_view(run: runs.Run) -> dict[str, Any]:
    return {
        "id": run.run_id, "item_id": run.item_id, "source_kind": run.source_kind, "source_id": run.source_id,
        "source_name": run.source_name, "status": run.status, "attempts": run.attempts, "due_at": run.due_at,
        "error": run.last_error, "detail": run.detail, "created_at": run.created_at, "finished_at": run.finished_at,
    }  # fmt: skip


@router.get("/automation-log/{item_id}", response_model=AutomationLog)
async def automation_log(ctx: CtxDep, item_id: str) -> dict[str, Any]:
    """What ran on the item (oldest first) and what is scheduled for its current visit to a stage."""
    async with ctx.pool.acquire() as conn:
        if not await may_read(conn, ctx.principal, item_id):
            raise not_found(f"no item {item_id}")  # as for an item that does not exist
        item = await items.load(conn, ctx.tenant_id, item_id)
        found = await runs.runs_of_item(conn, ctx.tenant_id, item_id)
        upcoming = []
        if item is not None and item.visit_id is not None:
            for group in (visit_group, idle_group):
                upcoming += await pending(conn, ctx.tenant_id, group(ctx.tenant_id, item_id, item.visit_id))
    if item is None and not found:
        raise not_found(f"no item {item_id}")
    return {
        "item_id": item_id,
        "stage_id": item.stage_id if item else None,
        "runs": [run_view(r) for r in found],
        "scheduled": [
            {
                "robot_id": t.payload.get("robot_id"),
                "trigger_id": t.payload.get("trigger_id"),
                "run_id": t.payload.get("run_id"),
                "due_at": t.due_at,
            }
            for t in sorted(upcoming, key=lambda t: t.due_at)
        ],
    }


@router.post("/automation-log/{item_id}/runs/{run_id}/retry", status_code=202, response_model=AutomationRun)
async def retry(ctx: CtxDep, item_id: str, run_id: str) -> dict[str, Any]:
    """Run a `failed` or `retrying` robot run again at once (admins); the run as it is now (`scheduled`)."""
    ctx.require_admin()
    async with ctx.pool.acquire() as conn, conn.transaction():
        run = await retry_run(conn, tenant_id=ctx.tenant_id, item_id=item_id, run_id=run_id, now=ctx.now())
    return run_view(run)
