"""The pipelines service's HTTP API."""

from importlib.metadata import version

from conveyor_kit.app import create_app
from conveyor_kit.whoami import whoami_router
from conveyor_kit.workers import check_workers
from fastapi import FastAPI

from pipelines.bootstrap import bootstrap
from pipelines.config import Settings
from pipelines.entrypoints import board_api, pipelines_api, placements_api, tunnels_api


def create(settings: Settings | None = None) -> FastAPI:
    """The pipelines app; settings come from the environment unless given.

    Also usable as `uvicorn --factory pipelines.entrypoints.http:create`.
    """
    return create_app(
        settings or Settings(),
        title="Conveyor pipelines",
        version=version("pipelines"),
        routers=[
            whoami_router(in_schema=False),
            pipelines_api.router,
            board_api.router,
            placements_api.router,
            tunnels_api.router,
        ],
        lifespan_hooks=[bootstrap],
        ready_checks=[check_workers],
    )
