"""Opens what the pipelines service runs on, for the app's lifetime; nothing at import."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from conveyor_kit.background import in_background
from conveyor_kit.database import pool_on_state
from conveyor_kit.workers import backbone_on_state
from fastapi import FastAPI

from pipelines.adapters import board_counts
from pipelines.routing import SUBSCRIPTIONS


@asynccontextmanager
async def bootstrap(app: FastAPI) -> AsyncIterator[None]:
    """Open the database pool, then the outbox relay, the consumers of the routing table and the
    folding of board counts."""
    async with pool_on_state(app), backbone_on_state(app, SUBSCRIPTIONS), folding_board_counts(app):
        yield


@asynccontextmanager
async def folding_board_counts(app: FastAPI) -> AsyncIterator[None]:
    """Fold board count changes in the background, in processes that run workers."""
    if not app.state.settings.run_workers:
        yield
        return
    async with in_background(board_counts.keep_folding(app.state.pool), name="board-counts-fold"):
        yield
