"""Opens what the pipelines service runs on, for the app's lifetime; nothing at import."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from conveyor_kit.database import pool_on_state
from fastapi import FastAPI


@asynccontextmanager
async def bootstrap(app: FastAPI) -> AsyncIterator[None]:
    """Open the database pool; producers and consumers will join here."""
    async with pool_on_state(app):
        yield
