"""The directory read model every service keeps: its tables, the handlers that fill them, its queries.

A service runs ``DIRECTORY_DDL_V1`` in a migration and subscribes ``DIRECTORY_HANDLE_BATCH`` (users a
fetch at a time, the rest one by one) to ``DIRECTORY_TOPICS`` in its routing table; the entities
service applies ``DIRECTORY_HANDLERS`` in the transaction that records the events, so its own copy
follows every write at once.

Every row carries the aggregate version of the last event applied to it, and a handler changes a
row only with a newer event: applying an event twice, or an old one late, changes nothing.
Removed departments stay as tombstones so that a late older event cannot bring them back.
"""

from conveyor_access.directory_handlers import DIRECTORY_HANDLE_BATCH, DIRECTORY_HANDLERS, DIRECTORY_TOPICS
from conveyor_access.directory_queries import (
    head_of_department_of,
    load_grants,
    load_viewer,
    substitute_for,
    users_with_role,
)
from conveyor_access.directory_schema import DIRECTORY_DDL_V1

__all__ = [
    "DIRECTORY_DDL_V1",
    "DIRECTORY_HANDLERS",
    "DIRECTORY_HANDLE_BATCH",
    "DIRECTORY_TOPICS",
    "head_of_department_of",
    "load_grants",
    "load_viewer",
    "substitute_for",
    "users_with_role",
]
