"""A service's background workers (outbox relay and consumers), started with its app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

from conveyor_messaging.runtime import Backbone, Subscription
from fastapi import FastAPI, Request
from starlette.datastructures import State

from conveyor_kit.health import CheckResult


@asynccontextmanager
async def backbone_on_state(app: FastAPI, subscriptions: Sequence[Subscription] = ()) -> AsyncIterator[Backbone]:
    """Start the relay and the consumers on the app's pool; keep the backbone on ``app.state.backbone``.

    With ``run_workers`` off (an API-only replica) nothing is started, but the event store is
    still there for the request handlers to append to.
    """
    settings = app.state.settings
    backbone = Backbone(
        service=settings.service_name,
        pool=app.state.pool,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        subscriptions=subscriptions,
        run_workers=settings.run_workers,
        group_suffix=settings.consumer_group_suffix,
        default_batch_wait_ms=settings.consumer_batch_wait_ms,
        processed_marks_retention=timedelta(hours=settings.processed_marks_retention_hours) or None,
    )
    await backbone.start()
    app.state.backbone = backbone
    try:
        yield backbone
    finally:
        del app.state.backbone
        await backbone.stop()


async def check_workers(state: State) -> CheckResult:
    """The relay and every consumer of this process are still running."""
    backbone: Backbone | None = getattr(state, "backbone", None)
    if backbone is None:
        return False, {"error": "the backbone has not started"}
    return backbone.status()


def backbone_from(request: Request) -> Backbone:
    """FastAPI dependency: the service's backbone (its event store for appends)."""
    backbone: Backbone = request.app.state.backbone
    return backbone
