"""The OpenAPI pages, with their scripts served by the service itself: Swagger UI at `/v1/docs` (try
a call) and ReDoc at `/v1/redoc` (read the reference).

FastAPI's pages load their scripts from a CDN, which leaves them blank on a machine without internet
(and makes every visit a request to a third party). The assets come from `fastapi-offline`, which
ships Swagger UI 5 (OpenAPI 3.1, as FastAPI writes it) and ReDoc's standalone bundle in its package
data.
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

from conveyor_kit.problems import not_found

DOCS_PATH = "/v1/docs"
REDOC_PATH = "/v1/redoc"
ASSETS_PATH = f"{DOCS_PATH}/assets"
ASSETS = Path(fastapi_offline.__file__).parent / "static"
# The files the pages load (a route, not a static mount: a mount misses them behind a root path).
SERVED = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "redoc.standalone.js": "text/javascript",
    "favicon.png": "image/png",
}


def swagger_ui_page(openapi_url: str, title: str, assets: str) -> HTMLResponse:
    """Swagger UI for the document at `openapi_url`, its scripts under `assets`."""
    return get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        swagger_js_url=f"{assets}/swagger-ui-bundle.js",
        swagger_css_url=f"{assets}/swagger-ui.css",
        swagger_favicon_url=f"{assets}/favicon.png",
    )


def redoc_page(openapi_url: str, title: str, assets: str) -> HTMLResponse:
    """ReDoc for the document at `openapi_url`, without Google Fonts (the page uses system fonts)."""
    return get_redoc_html(
        openapi_url=openapi_url,
        title=title,
        redoc_js_url=f"{assets}/redoc.standalone.js",
        redoc_favicon_url=f"{assets}/favicon.png",
        with_google_fonts=False,
    )


def install_api_docs(app: FastAPI) -> None:
    """Serve both pages and their assets under `/v1/docs/assets`, behind any root path."""

    @app.get(f"{ASSETS_PATH}/{{name}}", include_in_schema=False)
    async def api_docs_asset(name: str) -> FileResponse:
        if name not in SERVED:
            raise not_found(f"no asset {name}")
        return FileResponse(ASSETS / name, media_type=SERVED[name], headers={"Cache-Control": "max-age=86400"})

    @app.get(DOCS_PATH, include_in_schema=False)
    async def api_docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return swagger_ui_page(f"{root}{app.openapi_url}", f"{app.title} API", f"{root}{ASSETS_PATH}")

    @app.get(REDOC_PATH, include_in_schema=False)
    async def api_reference(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return redoc_page(f"{root}{app.openapi_url}", f"{app.title} API", f"{root}{ASSETS_PATH}")
