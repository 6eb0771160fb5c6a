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
