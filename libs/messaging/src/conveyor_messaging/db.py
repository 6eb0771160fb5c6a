"""The connection type the backbone accepts, and what it means that the database is away."""

from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

if TYPE_CHECKING:  # asyncpg's classes are generic only in asyncpg-stubs
    Connection: TypeAlias = asyncpg.Connection[Any] | PoolConnectionProxy[Any]
else:
    Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy

# What asyncpg raises while the server is stopping, restarting or unreachable. None of it is the
# fault of the work in hand: background loops wait and try again, without limit, and never count
# it against an event. InternalClientError ("cannot switch to state ...; another operation is in
# progress") is a connection whose protocol the server's shutdown left half-way through an
# operation; asyncpg does not class it as an InterfaceError, and a relay that did not expect it
# died for good in tests/faults when PostgreSQL restarted.
DATABASE_AWAY: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.AdminShutdownError,
)

# What the loops that carry no event of their own (the relay, the timers worker) wait out: the
# database away, and any error it reports (a table a migration is still creating, a lock timeout).
DATABASE_FAILURES: tuple[type[BaseException], ...] = (*DATABASE_AWAY, asyncpg.PostgresError)


# Server process ids of pooled connections that LISTEN or hold a session-level advisory lock.
_WITH_SESSION_STATE: set[int] = set()


def keeps_session_state(conn: Connection) -> None:
    """Mark a pooled connection before it LISTENs or takes a session lock: its release resets the session.

    Everything else the services do on pooled connections ends with its transaction (``SET LOCAL``,
    ``pg_advisory_xact_lock``), so ``reset_session_state`` skips asyncpg's reset for them.
    """
    _WITH_SESSION_STATE.add(conn.get_server_pid())


async def reset_session_state(conn: Connection) -> None:
    """The pool's ``reset``: asyncpg's reset query only for connections marked by ``keeps_session_state``.

    asyncpg resets every released connection with ``SELECT pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL`` (a round trip of four statements PostgreSQL parses each time), 2-3 % of
    each service's CPU in the system bench, for state only the relay and the timers' listener create.
    Before calling this, asyncpg has rolled back any transaction left open and dropped the
    connection's listener callbacks.
    """
    pid = conn.get_server_pid()
    if pid in _WITH_SESSION_STATE:
        _WITH_SESSION_STATE.discard(pid)
        query = conn.get_reset_query()
        if query:
            await conn.execute(query)
