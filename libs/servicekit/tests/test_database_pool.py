"""The service pool on real PostgreSQL: what a released connection keeps, and what it must not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from conveyor_kit.database import Pool, create_pool
from conveyor_messaging.db import keeps_session_state

pytestmark = pytest.mark.integration

SESSION_LOCK = 4242


@pytest.fixture
async def one_connection(make_settings: Callable[..., Any], fresh_database: str) -> AsyncIterator[Pool]:
    """The service pool with one connection, so every acquire gets the one released before."""
    pool = await create_pool(make_settings(database_url=fresh_database), max_size=1)
    yield pool
    await pool.close()


async def session_of(pool: Pool) -> dict[str, Any]:
    async with pool.acquire() as conn:
        return {
            "channels": await conn.fetchval("SELECT array_agg(c) FROM pg_listening_channels() AS c"),
            "locks": await conn.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid()"
            ),
            "application_name": await conn.fetchval("SHOW application_name"),
        }


class TestReleasedConnections:
    @pytest.mark.filterwarnings("ignore:.*active notification listener")  # released with it on purpose
    async def test_a_connection_marked_for_its_session_state_comes_back_without_it(self, one_connection: Pool) -> None:
        """The relay's advisory lock and LISTEN, and the timers' LISTEN, end when their connection is released."""
        async with one_connection.acquire() as conn:
            keeps_session_state(conn)
            assert await conn.fetchval("SELECT pg_try_advisory_lock($1)", SESSION_LOCK)
            await conn.add_listener("some_channel", lambda *_: None)
            await conn.execute("SET application_name = 'held'")
        assert await session_of(one_connection) == {"channels": None, "locks": 0, "application_name": ""}

    async def test_other_connections_are_released_without_a_reset_round_trip(self, one_connection: Pool) -> None:
        """Nothing but transactions runs on them; a session setting would stay (so none is used)."""
        async with one_connection.acquire() as conn:
            await conn.execute("SET application_name = 'kept'")
            async with conn.transaction():
                await conn.execute("SET LOCAL statement_timeout = '1s'")
        async with one_connection.acquire() as conn:
            assert await conn.fetchval("SHOW application_name") == "kept", "no reset query ran"
            assert await conn.fetchval("SHOW statement_timeout") == "0", "transaction-scoped state ends anyway"

    async def test_a_transaction_left_open_is_rolled_back_on_release(self, one_connection: Pool) -> None:
        conn = await one_connection.acquire()
        await conn.execute("CREATE TABLE t (x int)")
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO t VALUES (1)")
        await one_connection.release(conn)
        async with one_connection.acquire() as again:
            assert await again.fetchval("SELECT count(*) FROM t") == 0
            assert not again.is_in_transaction()
