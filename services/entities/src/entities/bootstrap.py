"""Opens what the entities service runs on, for the app's lifetime; nothing at import."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from conveyor_kit.database import pool_on_state
from conveyor_kit.workers import backbone_on_state
from fastapi import FastAPI

from entities.routing import SUBSCRIPTIONS


@asynccontextmanager
async def bootstrap(app: FastAPI) -> AsyncIterator[None]:
    """Open the database pool, then the outbox relay and the consumers of the routing table."""
    async with pool_on_state(app), backbone_on_state(app, SUBSCRIPTIONS):
        yield
