"""The notifications service's HTTP API."""

from importlib.metadata import version

from conveyor_kit.app import create_app
from conveyor_kit.whoami import whoami_router
from conveyor_kit.workers import check_workers
from fastapi import FastAPI

from notifications.bootstrap import bootstrap
from notifications.config import Settings
from notifications.entrypoints import calendar_api, inbox_api, settings_api, templates_api, webhooks_api


def create(settings: Settings | None = None) -> FastAPI:
    """The notifications app; settings come from the environment unless given.

    Also usable as `uvicorn --factory notifications.entrypoints.http:create`.
    """
    return create_app(
        settings or Settings(),
        title="Conveyor notifications",
        version=version("notifications"),
        routers=[
            whoami_router(in_schema=False),
            inbox_api.router,
            calendar_api.router,
            calendar_api.feed_router,
            templates_api.router,
            webhooks_api.router,
            settings_api.router,
        ],
        lifespan_hooks=[bootstrap],
        ready_checks=[check_workers],
    )
