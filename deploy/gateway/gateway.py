"""The one public origin of the five APIs: who owns which path, the merged OpenAPI document, and the
local gateway (nginx) that `make run` serves on :8000.

    uv run python deploy/gateway/gateway.py openapi [--check]
        write docs/openapi.json, the merged document of the whole public API (--check: fail if the
        committed one differs from what the services declare today)
    uv run python deploy/gateway/gateway.py nginx --listen 127.0.0.1:8000 \\
            --upstream entities=127.0.0.1:8001 ... --home .local/gateway [--test-clock]
        write the gateway's nginx.conf into --home (print its path); --test-clock also routes
        /v1/test/clock, for `make run ARGS=--test-clock`, where the five services share one clock

The path table is `deploy/helm/conveyor/public-paths.yaml`, shared with the chart's Ingress, so the
cluster and a laptop route the same way. Each path has exactly one owner; a service's document that
declares a path another service owns is an error here, not a surprise at the gateway.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[2]
PUBLIC_PATHS = REPO / "deploy" / "helm" / "conveyor" / "public-paths.yaml"
MERGED_OPENAPI = REPO / "docs" / "openapi.json"
SERVICES = ("entities", "pipelines", "automation", "notifications", "reporting")
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")

TITLE = "Conveyor API"
DESCRIPTION = (
    "The public API of Conveyor's five services behind one origin. Every error is RFC 9457 "
    "problem+json. Authenticate with `Authorization: Bearer <JWT>` (the token names the tenant). "
    "docs/api-conventions.md describes ids, collections, versions and timestamps."
)


class RoutingError(Exception):
    """The path table and the services' documents disagree."""


def owners() -> dict[str, list[str]]:
    """Service -> the path prefixes it owns, as the table lists them."""
    table: dict[str, list[str]] = yaml.safe_load(PUBLIC_PATHS.read_text())
    return table


def owner_of(path: str, table: Mapping[str, list[str]] | None = None) -> str | None:
    """The service owning ``path`` (a concrete path or a template): the longest prefix that is the path
    itself or a whole-segment prefix of it."""
    best: tuple[int, str] | None = None
    for service, prefixes in (table or owners()).items():
        for prefix in prefixes:
            if (path == prefix or path.startswith(prefix + "/")) and (best is None or len(prefix) > best[0]):
                best = (len(prefix), service)
    return best[1] if best else None


def service_document(service: str) -> dict[str, Any]:
    """The OpenAPI document the service's app declares (building the app connects to nothing)."""
    app = importlib.import_module(f"{service}.entrypoints.http").create()
    document: dict[str, Any] = app.openapi()
    return document


def merged_openapi(documents: Mapping[str, dict[str, Any]] | None = None) -> dict[str, Any]:
    """One document for the five APIs: their paths (each checked against the table) and components.
    Two services declaring the same schema name with different content is an error: the generated
    client would get one of them."""
    documents = documents or {service: service_document(service) for service in SERVICES}
    table = owners()
    paths: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    security: dict[str, Any] = {}
    tags: dict[str, dict[str, Any]] = {}
    versions = set()
    for service, document in documents.items():
        versions.add(document["info"]["version"])
        for path, item in document["paths"].items():
            owner = owner_of(path, table)
            if owner != service:
                raise RoutingError(
                    f"{service} declares {path}, which {owner or 'no service'} owns in {PUBLIC_PATHS.name}"
                )
            if path in paths:
                raise RoutingError(f"{path} is declared twice")
            paths[path] = item
            for method in HTTP_METHODS:
                if method in item:
                    item[method]["x-conveyor-service"] = service
                    for tag in item[method].get("tags", []):
                        tags.setdefault(tag, {"name": tag, "description": f"Served by {service}."})
        components = document.get("components", {})
        for name, schema in components.get("schemas", {}).items():
            if name in schemas and schemas[name] != schema:
                raise RoutingError(f"schema {name} differs between services ({service} and another): rename one")
            schemas[name] = schema
        security.update(components.get("securitySchemes", {}))
    return {
        "openapi": "3.1.0",
        "info": {"title": TITLE, "version": max(versions), "description": DESCRIPTION},
        "servers": [{"url": "/", "description": "the origin serving this document"}],
        "tags": sorted(tags.values(), key=lambda tag: tag["name"]),
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": dict(sorted(schemas.items())), "securitySchemes": security},
    }


def render_openapi(document: Mapping[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# -- the local gateway ---------------------------------------------------------------------------------

PROBLEM_404 = (
    '{"type":"about:blank","title":"Not Found","status":404,'
    '"detail":"no Conveyor API serves this path (deploy/helm/conveyor/public-paths.yaml)"}'
)
# The shared test clock (conveyor_kit.shared_clock) moves for all five whichever service takes the move;
# automation's timers then look at once, the others' within a second. Never in public-paths.yaml: the
# chart's Ingress has no test clock to route to.
TEST_CLOCK_PATH, TEST_CLOCK_OWNER = "/v1/test/clock", "automation"
PROBLEM_502 = (
    '{"type":"about:blank","title":"Service Unavailable","status":503,'
    '"detail":"the service that owns this path is not answering; retry shortly"}'
)


def _locations(table: Mapping[str, list[str]]) -> str:
    # `location = /v1/items` and `location /v1/items/`: a bare prefix would also take /v1/items-x.
    lines = []
    for service, prefixes in table.items():
        for prefix in prefixes:
            for match in (f"= {prefix}", f"{prefix}/"):
                lines.append(f"        location {match} {{ proxy_pass http://{service}; }}")
    return "\n".join(lines)


def docs_assets() -> Path:
    from conveyor_kit.api_docs import ASSETS  # the files the services' own pages serve

    return ASSETS


def docs_pages() -> dict[str, str]:
    """The two pages for the merged document, by file name: Swagger UI and ReDoc."""
    from conveyor_kit.api_docs import redoc_page, swagger_ui_page

    return {
        "docs.html": bytes(swagger_ui_page("/openapi.json", TITLE, "/v1/docs/assets").body).decode(),
        "redoc.html": bytes(redoc_page("/openapi.json", TITLE, "/v1/docs/assets").body).decode(),
    }


def nginx_conf(
    listen: str, upstreams: Mapping[str, str], home: Path, openapi: Path, *, test_clock: bool = False
) -> str:
    """nginx.conf for the gateway: every owned prefix proxied to its service, the merged document at
    /openapi.json, Swagger UI at /v1/docs, ReDoc at /v1/redoc, and a problem+json 404 for everything else (/health,
    /metrics included; /v1/test/clock too unless ``test_clock``)."""
    table = owners()
    clock = f"        location = {TEST_CLOCK_PATH} {{ proxy_pass http://{TEST_CLOCK_OWNER}; }}\n" if test_clock else ""
    missing = sorted(set(table) - set(upstreams))
    if missing:
        raise RoutingError(f"no upstream address for {', '.join(missing)}")
    upstream_blocks = "\n".join(
        f"    upstream {service} {{ server {address}; keepalive 16; }}" for service, address in upstreams.items()
    )
    # A root-run nginx hands requests to `nobody` workers, who cannot read a checkout in a private
    # folder (a CI clone under a 0700 mktemp directory); this gateway is for development only.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""# Generated by deploy/gateway/gateway.py for `make run`: do not edit.
{user}worker_processes 1;
pid {home}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}

http {{
    access_log off;
    client_body_temp_path {home}/tmp/body;
    proxy_temp_path {home}/tmp/proxy;
    fastcgi_temp_path {home}/tmp/fastcgi;
    uwsgi_temp_path {home}/tmp/uwsgi;
    scgi_temp_path {home}/tmp/scgi;
    types {{ application/json json; text/html html; text/javascript js; text/css css; image/png png; }}

    # Each service sets and enforces its own body limit (imports stream large files), so the gateway
    # neither limits nor buffers bodies; answers are streamed too (the notifications event stream).
    client_max_body_size 0;
    proxy_request_buffering off;
    proxy_buffering off;
    proxy_read_timeout 1h;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    proxy_set_header X-Forwarded-Proto $scheme;

{upstream_blocks}

    server {{
        listen {listen};
        server_tokens off;

        location = /openapi.json {{ alias {openapi}; default_type application/json; }}
        location = /v1/openapi.json {{ alias {openapi}; default_type application/json; }}
        location = /v1/docs {{ alias {home}/docs.html; default_type text/html; }}
        location = /v1/redoc {{ alias {home}/redoc.html; default_type text/html; }}
        location /v1/docs/assets/ {{ alias {docs_assets()}/; expires 1d; }}

{_locations(table)}
{clock}
        location / {{
            default_type application/problem+json;
            return 404 '{PROBLEM_404}';
        }}
        error_page 502 504 = @unavailable;
        location @unavailable {{
            default_type application/problem+json;
            add_header Retry-After 1 always;
            return 503 '{PROBLEM_502}';
        }}
    }}
}}
"""


def write_gateway(
    listen: str, upstreams: Mapping[str, str], home: Path, openapi: Path = MERGED_OPENAPI, *, test_clock: bool = False
) -> Path:
    """The gateway's home (nginx.conf, the docs page, temp folders); returns the config's path."""
    for folder in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    for name, page in docs_pages().items():
        (home / name).write_text(page)
    conf = home / "nginx.conf"
    conf.write_text(nginx_conf(listen, upstreams, home.resolve(), openapi.resolve(), test_clock=test_clock))
    return conf


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    openapi = commands.add_parser("openapi", help="write docs/openapi.json")
    openapi.add_argument("--check", action="store_true", help="fail if docs/openapi.json is not current")
    nginx = commands.add_parser("nginx", help="write the gateway's nginx.conf")
    nginx.add_argument("--listen", default="127.0.0.1:8000")
    nginx.add_argument("--upstream", action="append", default=[], help="service=host:port, once per service")
    nginx.add_argument("--home", type=Path, required=True)
    nginx.add_argument("--test-clock", action="store_true", help=f"route {TEST_CLOCK_PATH} (the shared test clock)")
    args = parser.parse_args(argv)

    if args.command == "openapi":
        text = render_openapi(merged_openapi())
        if args.check:
            if not MERGED_OPENAPI.exists() or MERGED_OPENAPI.read_text() != text:
                print("docs/openapi.json is not current: run `make openapi`", file=sys.stderr)
                return 1
            return 0
        MERGED_OPENAPI.write_text(text)
        print(MERGED_OPENAPI.relative_to(REPO))
        return 0
    upstreams = dict(entry.split("=", 1) for entry in args.upstream)
    print(write_gateway(args.listen, upstreams, args.home, test_clock=args.test_clock))
    return 0


if __name__ == "__main__":
    sys.exit(main())
