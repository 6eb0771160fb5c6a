"""The entities service's HTTP API."""

from importlib.metadata import version

from conveyor_kit.app import create_app
from conveyor_kit.whoami import whoami_router
from conveyor_kit.workers import check_workers
from fastapi import FastAPI

from entities.bootstrap import bootstrap
from entities.config import Settings
from entities.entrypoints import (
    catalogue_api,
    csv_export_api,
    dictionaries_api,
    field_history,
    fields_api,
    history,
    imports_api,
    items_api,
    items_list_api,
    relations_api,
    rollup_api,
    types_api,
)
from entities.entrypoints.directory_api import directory_router
from entities.entrypoints.errors import install_domain_errors
from entities.entrypoints.imports_runner import imports_on_state


def create(settings: Settings | None = None) -> FastAPI:
    """The entities app; settings come from the environment unless given.

    Also usable as `uvicorn --factory entities.entrypoints.http:create`.
    """
    app = create_app(
        settings or Settings(),
        title="Conveyor entities",
        version=version("entities"),
        routers=[
            whoami_router(),
            directory_router(),
            types_api.router,
            fields_api.router,
            dictionaries_api.router,
            items_list_api.router,
            items_api.router,
            history.router,
            field_history.router,
            relations_api.router,
            rollup_api.router,
            catalogue_api.router,
            imports_api.router,
            csv_export_api.router,
        ],
        lifespan_hooks=[bootstrap, imports_on_state],
        ready_checks=[check_workers],
    )
    install_domain_errors(app)
    return app
