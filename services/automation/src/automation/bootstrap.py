"""Opens what the automation service runs on, for the app's lifetime; nothing at import."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from conveyor_kit.database import pool_on_state
from conveyor_kit.workers import backbone_on_state
from fastapi import FastAPI

from automation.routing import SUBSCRIPTIONS
from automation.timers import timers_on_state


@asynccontextmanager
async def bootstrap(app: FastAPI) -> AsyncIterator[None]:
    """Open the database pool, then the outbox relay, the consumers of the routing table and the timer worker."""
    async with pool_on_state(app), backbone_on_state(app, SUBSCRIPTIONS), timers_on_state(app):
        yield
