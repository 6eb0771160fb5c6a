"""Opens what the notifications service runs on, for the app's lifetime; nothing at import."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from conveyor_kit.database import pool_on_state
from conveyor_kit.workers import backbone_on_state
from fastapi import FastAPI

from notifications.adapters.live import LiveHub
from notifications.routing import SUBSCRIPTIONS
from notifications.workers import workers_on_state


@asynccontextmanager
async def bootstrap(app: FastAPI) -> AsyncIterator[None]:
    """The pool, the relay and consumers, the live-stream listener, then the reminder, e-mail and webhook loops."""
    hub = LiveHub()
    async with pool_on_state(app), backbone_on_state(app, SUBSCRIPTIONS):
        await hub.start(app.state.settings.database_url)
        app.state.live = hub
        try:
            async with workers_on_state(app):
                yield
        finally:
            await hub.stop()
