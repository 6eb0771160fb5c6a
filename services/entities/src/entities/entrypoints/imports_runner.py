"""Where import jobs run: background tasks of the app, started by a request or, for jobs a stopped
process left unfinished, when the app starts (only where workers run)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI

from entities.adapters import file_spool, import_store
from entities.handlers.import_jobs import run_import_job

log = structlog.get_logger(__name__)


def start_import_task(app: FastAPI, tenant_id: str, job_id: str) -> None:
    """Run the job in the background; the app keeps the task until it ends."""
    state = app.state
    task = asyncio.create_task(
        run_import_job(
            state.pool,
            state.backbone.store,
            state.clock,
            state.settings.import_spool_dir,
            tenant_id=tenant_id,
            job_id=job_id,
        ),
        name=job_id,
    )
    tasks: set[asyncio.Task[None]] = state.import_tasks
    tasks.add(task)
    task.add_done_callback(tasks.discard)


@asynccontextmanager
async def imports_on_state(app: FastAPI) -> AsyncIterator[None]:
    """Sweep old local copies of uploads, resume unfinished jobs (their done chunks are skipped); on
    shutdown stop the runners, whose jobs stay `running` for the next start to resume."""
    app.state.import_tasks = set()
    settings = app.state.settings
    await asyncio.to_thread(file_spool.sweep, settings.import_spool_dir, settings.import_spool_retention_hours * 3600)
    if app.state.settings.run_workers:
        async with app.state.pool.acquire() as conn:
            for job in await import_store.running_jobs(conn):
                log.info("import_resumed", tenant_id=job["tenant_id"], job_id=job["job_id"])
                start_import_task(app, job["tenant_id"], job["job_id"])
    try:
        yield
    finally:
        tasks = list(app.state.import_tasks)
        for task in tasks:
            task.cancel()
        with contextlib.suppress(Exception):
            await asyncio.gather(*tasks, return_exceptions=True)
