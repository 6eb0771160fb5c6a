"""The automation service's HTTP API."""

from importlib.metadata import version

from conveyor_kit.app import create_app
from conveyor_kit.whoami import whoami_router
from conveyor_kit.workers import check_workers
from fastapi import FastAPI

from automation.bootstrap import bootstrap
from automation.config import Settings
from automation.entrypoints import (
    log_api,
    process_events_api,
    processes_api,
    robots_api,
    tasks_api,
    triggers_api,
    work_calendar_api,
)


def create(settings: Settings | None = None) -> FastAPI:
    """The automation app; settings come from the environment unless given.

    Also usable as `uvicorn --factory automation.entrypoints.http:create`.
    """
    return create_app(
        settings or Settings(),
        title="Conveyor automation",
        version=version("automation"),
        routers=[
            whoami_router(in_schema=False),
            robots_api.router,
            triggers_api.router,
            log_api.router,
            tasks_api.router,
            processes_api.router,
            process_events_api.router,
            work_calendar_api.router,
        ],
        lifespan_hooks=[bootstrap],
        ready_checks=[check_workers],
    )
