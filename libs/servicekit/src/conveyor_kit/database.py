"""The asyncpg pool a service works with, opened in its bootstrap and never at import."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import asyncpg
import orjson
from conveyor_messaging import db
from conveyor_messaging.db import reset_session_state
from fastapi import FastAPI, Request

from conveyor_kit.settings import ServiceSettings

# asyncpg's classes are generic only in their stubs.
if TYPE_CHECKING:
    Pool = asyncpg.Pool[asyncpg.Record]
    Connection = asyncpg.Connection[asyncpg.Record]
else:
    Pool = asyncpg.Pool
    Connection = asyncpg.Connection


CONNECT_TIMEOUT_SECONDS = 5.0


def _dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


async def register_json_codecs(connection: Connection) -> None:
    """Let json/jsonb columns take and give Python objects, through orjson."""
    for type_name in ("json", "jsonb"):
        await connection.set_type_codec(
            type_name, encoder=_dumps, decoder=orjson.loads, schema="pg_catalog", format="text"
        )


async def create_pool(settings: ServiceSettings, *, max_size: int = 10) -> Pool:
    """A pool that connects on first use, so a service starts (unready) with its database down."""
    pool = await asyncpg.create_pool(
        settings.database_url,
        min_size=0,
        max_size=max_size,
        init=register_json_codecs,
        reset=reset_session_state,
        command_timeout=30,
        # A database that does not answer fails a request within seconds (503), not after a minute.
        timeout=CONNECT_TIMEOUT_SECONDS,
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def database_pool(settings: ServiceSettings) -> AsyncIterator[Pool]:
    """Open the pool for the span of the block, closing it gracefully after."""
    pool = await create_pool(settings)
    try:
        yield pool
    finally:
        await pool.close()


@asynccontextmanager
async def pool_on_state(app: FastAPI) -> AsyncIterator[Pool]:
    """Open the pool for the app's settings and keep it on `app.state.pool` while open."""
    async with database_pool(app.state.settings) as pool:
        app.state.pool = pool
        try:
            yield pool
        finally:
            del app.state.pool


def pool_from(request: Request) -> Pool:
    """FastAPI dependency: the pool the service's bootstrap opened."""
    pool: Pool = request.app.state.pool
    return pool


def as_columns(rows: Sequence[Any], *names: str) -> list[list[Any]]:
    """Rows (objects with these attributes) as one list per attribute, in order: the parameters of a
    set-based statement, ``SELECT … FROM unnest($1::text[], $2::int[], …)``, that takes a whole batch.
    A dict or list value goes as JSON text (cast it ``::jsonb`` in the statement): PostgreSQL has no
    arrays of uneven arrays, and one codec for every jsonb column keeps the statements alike."""
    return [[_column_value(getattr(row, name)) for row in rows] for name in names]


async def pairs_found(conn: db.Connection, query: str, pairs: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
    """Which of these pairs a query finds, in one statement: ``query`` selects two text columns and
    takes the pairs as ``unnest($1::text[], $2::text[])`` (``WHERE (a, b) IN (SELECT * FROM unnest(...))``)."""
    rows = await conn.fetch(query, [first for first, _ in pairs], [second for _, second in pairs])
    return {(row[0], row[1]) for row in rows}


def _column_value(value: Any) -> Any:
    return orjson.dumps(value).decode() if isinstance(value, dict | list) else value
