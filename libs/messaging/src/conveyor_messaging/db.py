"""The connection type the backbone accepts: a plain asyncpg connection or one borrowed from a pool."""

from typing import Any, TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

Connection: TypeAlias = asyncpg.Connection | PoolConnectionProxy[Any]
