"""The FastAPI app factory: one call gives a service its middleware, errors, health and metrics."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from conveyor_kit.api_docs import install_api_docs
from conveyor_kit.auth import TokenVerifier
from conveyor_kit.clock import Clock, clock_for, clock_router
from conveyor_kit.consistency import HEADER as CONSISTENCY_HEADER
from conveyor_kit.consistency import ConsistencyMiddleware
from conveyor_kit.health import DEFAULT_CHECKS, ReadyCheck, health_router
from conveyor_kit.logging import configure_logging, get_logger
from conveyor_kit.metrics import MetricsMiddleware, metrics_router
from conveyor_kit.middleware import (
    CORRELATION_HEADER,
    REQUEST_ID_HEADER,
    BodySizeLimitMiddleware,
    CorrelationIdMiddleware,
    NulCharacterGuardMiddleware,
    UnhandledErrorMiddleware,
)
from conveyor_kit.openapi import install_problem_openapi
from conveyor_kit.problems import install_problem_handlers
from conveyor_kit.settings import ServiceSettings

# A hook opens what the service runs on (pool, producers, consumers) for the app's lifetime,
# storing it on `app.state`; hooks run in order and close in reverse.
LifespanHook = Callable[[FastAPI], AbstractAsyncContextManager[Any]]

log = get_logger(__name__)


def cors_origins(origins: list[str]) -> tuple[list[str], str | None]:
    """The exact origins, and one pattern for those written ``scheme://host:*`` (any port of that host)."""
    exact = [origin for origin in origins if not origin.endswith(":*")]
    hosts = [re.escape(origin.removesuffix(":*")) for origin in origins if origin.endswith(":*")]
    return exact, (rf"^(?:{'|'.join(hosts)})(?::\d{{1,5}})?$" if hosts else None)


def operation_ids_of(service: str) -> Callable[[APIRoute], str]:
    """operationIds a generated client can live with: ``<service>_<the route function's name>``
    (``automation_list_templates``), not FastAPI's path-and-method default; a route serving several
    methods gets the method too."""

    def operation_id(route: APIRoute) -> str:
        methods = sorted(route.methods or ())
        return f"{service}_{route.name}" + (f"_{methods[0].lower()}" if len(methods) > 1 else "")

    return operation_id


def create_app(
    settings: ServiceSettings,
    *,
    title: str,
    version: str,
    routers: Sequence[APIRouter] = (),
    lifespan_hooks: Sequence[LifespanHook] = (),
    ready_checks: Sequence[ReadyCheck] = (),
    clock: Clock | None = None,
) -> FastAPI:
    """A service's app; nothing connects until the lifespan runs its hooks."""
    configure_logging(settings.log_level)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        log.info(
            "service_starting",
            service=settings.service_name,
            version=version,
            environment=settings.environment,
        )
        async with AsyncExitStack() as stack:
            for hook in lifespan_hooks:
                await stack.enter_async_context(hook(app))
            log.info("service_started", host=settings.host, port=settings.port)
            yield
        log.info("service_stopped")

    app = FastAPI(
        title=title,
        version=version,
        lifespan=lifespan,
        docs_url=None,  # served below with local assets: no CDN, so the page works offline
        redoc_url=None,
        openapi_url="/v1/openapi.json",
        generate_unique_id_function=operation_ids_of(settings.service_name),
        # Behind an ingress that serves the service under a prefix (`/entities`), links in the
        # OpenAPI page must carry it.
        root_path=settings.root_path,
    )
    app.state.settings = settings
    app.state.clock = clock or clock_for(settings)
    app.state.token_verifier = TokenVerifier(settings)

    install_problem_handlers(app)
    install_problem_openapi(app)
    # Added innermost first: the last one added sees the request first.
    app.add_middleware(ConsistencyMiddleware)
    app.add_middleware(UnhandledErrorMiddleware)
    app.add_middleware(NulCharacterGuardMiddleware)
    app.add_middleware(
        BodySizeLimitMiddleware, max_bytes=settings.max_body_bytes, limits_by_path=settings.large_body_paths
    )
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(CorrelationIdMiddleware)
    if settings.cors_origins:
        exact, any_port = cors_origins(settings.cors_origins)
        app.add_middleware(
            CORSMiddleware,
            allow_origins=exact,
            allow_origin_regex=any_port,
            allow_methods=["*"],
            allow_headers=["*"],
            # What a browser script may read: versions for If-Match, where a new resource is, when to
            # retry, and the ids to quote in a support request.
            expose_headers=[
                "ETag",
                "Location",
                "Retry-After",
                CONSISTENCY_HEADER,
                CORRELATION_HEADER,
                REQUEST_ID_HEADER,
            ],
        )

    install_api_docs(app)
    app.include_router(health_router([*DEFAULT_CHECKS, *ready_checks]))
    app.include_router(metrics_router())
    if settings.has_test_clock:
        app.include_router(clock_router())
    for router in routers:
        app.include_router(router)
    return app
