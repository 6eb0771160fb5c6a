"""The reporting service's HTTP API."""

from importlib.metadata import version

from conveyor_kit.app import create_app
from conveyor_kit.whoami import whoami_router
from conveyor_kit.workers import check_workers
from fastapi import FastAPI

from reporting.bootstrap import bootstrap
from reporting.config import Settings
from reporting.entrypoints import admin, analytics, analytics_time


def create(settings: Settings | None = None) -> FastAPI:
    """The reporting app; settings come from the environment unless given.

    Also usable as `uvicorn --factory reporting.entrypoints.http:create`.
    """
    return create_app(
        settings or Settings(),
        title="Conveyor reporting",
        version=version("reporting"),
        routers=[
            whoami_router(in_schema=False),
            analytics.router,
            analytics_time.router,
            analytics_time.legacy_router,
            admin.router,
        ],
        lifespan_hooks=[bootstrap],
        ready_checks=[check_workers, admin.check_projection_lag],
    )
