"""Prometheus metrics: request count and latency per route template, and `/metrics`."""

from __future__ import annotations

import time

from fastapi import APIRouter
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, Histogram, generate_latest
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# Registered once per process in the default registry, which the messaging library's
# metrics share, so one scrape shows both.
REQUESTS = Counter("http_requests_total", "HTTP requests handled", ["method", "route", "status"])
LATENCY = Histogram("http_request_duration_seconds", "HTTP request latency", ["method", "route", "status"])
# Unmatched paths are labelled as one route, so scanners cannot blow up label cardinality.
UNMATCHED_ROUTE = "<unmatched>"


class MetricsMiddleware:
    """Counts and times every HTTP request, labelled by its route template."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_record)
        finally:
            route: BaseRoute | None = scope.get("route")
            template = getattr(route, "path", None) or UNMATCHED_ROUTE
            labels = (scope["method"], template, str(status))
            REQUESTS.labels(*labels).inc()
            LATENCY.labels(*labels).observe(time.perf_counter() - started)


def metrics_router() -> APIRouter:
    """`/metrics` in the Prometheus text exposition format."""
    router = APIRouter(tags=["metrics"])

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

    return router
