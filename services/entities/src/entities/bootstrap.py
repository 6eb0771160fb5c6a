"""Opens what the entities service runs on, for the app's lifetime; nothing at import."""

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from conveyor_kit.database import pool_on_state
from conveyor_kit.workers import backbone_on_state
from fastapi import FastAPI

from entities.routing import SUBSCRIPTIONS


@asynccontextmanager
async def bootstrap(app: FastAPI) -> AsyncIterator[None]:
    """Open the database pool, then the outbox relay and the consumers of the routing table."""
    suffix = app.state.settings.consumer_group_suffix
    subscriptions = [dataclasses.replace(s, name=s.name + suffix) for s in SUBSCRIPTIONS]
    async with pool_on_state(app), backbone_on_state(app, subscriptions):
        yield
