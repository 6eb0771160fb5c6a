"""The OpenAPI page (`/v1/docs`), with Swagger UI served by the service itself.

FastAPI's page loads Swagger UI from a CDN, which leaves it blank on a machine without internet
(and makes every visit a request to a third party). The assets come from `swagger-ui-py`, which
ships Swagger UI 5 (OpenAPI 3.1, as FastAPI writes it) in its package data.
"""

from __future__ import annotations

from pathlib import Path

import swagger_ui
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from conveyor_kit.problems import not_found

DOCS_PATH = "/v1/docs"
ASSETS_PATH = f"{DOCS_PATH}/assets"
ASSETS = Path(swagger_ui.__file__).parent / "static"
# The three files the page loads (a route, not a static mount: a mount misses them behind a root path).
SERVED = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


def install_api_docs(app: FastAPI) -> None:
    """Serve the page at `/v1/docs` and its assets under `/v1/docs/assets`, behind any root path."""

    @app.get(f"{ASSETS_PATH}/{{name}}", include_in_schema=False)
    async def api_docs_asset(name: str) -> FileResponse:
        if name not in SERVED:
            raise not_found(f"no asset {name}")
        return FileResponse(ASSETS / name, media_type=SERVED[name], headers={"Cache-Control": "max-age=86400"})

    @app.get(DOCS_PATH, include_in_schema=False)
    async def api_docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{app.openapi_url}",
            title=f"{app.title} API",
            swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon-32x32.png",
        )
