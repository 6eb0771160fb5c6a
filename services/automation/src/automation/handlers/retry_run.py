"""Retry a failed robot run by hand: a timer due now runs it again."""

from __future__ import annotations

from datetime import datetime

from conveyor_kit.api_models import utc_z
from conveyor_messaging.db import Connection
from conveyor_timers import cancel, schedule

from automation.adapters import runs
from automation.domain import errors
from automation.domain.robot_timers import ROBOT_TIMER, visit_group


async def retry_run(conn: Connection, *, tenant_id: str, item_id: str, run_id: str, now: datetime) -> runs.Run:
    run = await runs.load_run(conn, tenant_id, run_id, lock=True)
    if run is None or run.item_id != item_id:
        raise errors.NotFound(f"no run {run_id}")
    if run.source_kind != "robot" or run.status not in ("failed", "retrying"):
        raise errors.RunNotRetryable(f"the run is {run.status}; only failed robot runs are retried")
    if run.detail.get("delivery", {}).get("status") == "failed":
        # The notifications service retried it already, and the run's command key would send nothing again.
        raise errors.RunNotRetryable("its e-mail or webhook call was not delivered; a retry would not send it again")
    await cancel(conn, f"run:{tenant_id}:{run_id}:retry-{run.attempts}")  # the automatic retry, if still waiting
    payload = {"run_id": run_id, "robot_id": run.source_id, "item_id": run.item_id, "visit_id": run.visit_id}
    await schedule(
        conn, tenant_id, f"run:{tenant_id}:{run_id}:manual-{run.attempts}", now, payload, kind=ROBOT_TIMER,
        group=visit_group(tenant_id, run.item_id, run.visit_id or ""),
    )  # fmt: skip
    await runs.finish(conn, tenant_id, run_id, status="scheduled", now=now, detail={"retried_by_hand_at": utc_z(now)})
    reloaded = await runs.load_run(conn, tenant_id, run_id)
    assert reloaded is not None
    return reloaded
