"""The connection type the backbone accepts: a plain asyncpg connection or one borrowed from a pool."""

from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

if TYPE_CHECKING:  # asyncpg's classes are generic only in asyncpg-stubs
    Connection: TypeAlias = asyncpg.Connection[Any] | PoolConnectionProxy[Any]
else:
    Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy
