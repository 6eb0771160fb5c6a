"""The follow-up table: a message reaches the handler its routing table names, and answers the caller."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from conveyor_messaging.eventstore import EventStore
from conveyor_messaging.follow_ups import FollowUps

pytestmark = pytest.mark.unit

STORE = EventStore(source="/conveyor/test")


@dataclass(frozen=True)
class StartProcess:
    template_id: str


@dataclass(frozen=True)
class Unrouted:
    pass


async def test_a_message_is_done_by_its_handler_in_the_callers_connection_and_answers() -> None:
    seen: list[tuple[Any, Any, Any]] = []

    async def start(conn: Any, store: EventStore, message: StartProcess) -> str:
        seen.append((conn, store, message))
        return f"instance of {message.template_id}"

    bus = FollowUps("sales")
    bus.handled_by({StartProcess: start})
    connection = object()

    assert await bus.dispatch(connection, STORE, StartProcess("approval")) == "instance of approval"  # type: ignore[arg-type]
    assert seen == [(connection, STORE, StartProcess("approval"))]


async def test_a_message_no_table_names_is_refused_loudly_naming_the_routing_to_import() -> None:
    with pytest.raises(LookupError, match=r"no handler for Unrouted: import sales.routing first"):
        await FollowUps("sales").dispatch(object(), STORE, Unrouted())  # type: ignore[arg-type]
