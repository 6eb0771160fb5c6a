"""The follow-up table: a message reaches the handler its routing table names, and answers the caller."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pytest
import structlog
from conveyor_messaging.eventstore import EventStore
from conveyor_messaging.follow_ups import FollowUps, with_work_after_the_fetch

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


async def test_work_held_until_the_fetch_is_applied_runs_after_it_in_order_under_its_own_log_context() -> None:
    done: list[tuple[str, Any]] = []
    bus = FollowUps("automation")

    async def start(conn: Any, store: EventStore, message: StartProcess) -> None:
        done.append((f"started {message.template_id}", structlog.contextvars.get_contextvars().get("causation_id")))
        if message.template_id == "first":  # work held by held work runs too, after it
            await bus.dispatch_after_the_fetch(conn, store, StartProcess("nested"))

    bus.handled_by({StartProcess: start})

    async def reactions(conn: Any, events: Sequence[Any]) -> None:
        for event in events:
            with structlog.contextvars.bound_contextvars(causation_id=event):
                await bus.dispatch_after_the_fetch(conn, STORE, StartProcess(event))
                done.append((f"applied {event}", event))

    await with_work_after_the_fetch(reactions)(object(), ["first", "second"])  # type: ignore[arg-type,list-item]

    assert done == [
        ("applied first", "first"), ("applied second", "second"),
        ("started first", "first"), ("started second", "second"), ("started nested", "first"),
    ]  # fmt: skip


async def test_outside_a_fetch_held_work_is_done_at_once() -> None:
    done: list[str] = []

    async def start(conn: Any, store: EventStore, message: StartProcess) -> None:
        done.append(message.template_id)

    bus = FollowUps("automation")
    bus.handled_by({StartProcess: start})
    await bus.dispatch_after_the_fetch(object(), STORE, StartProcess("by a timer"))  # type: ignore[arg-type]

    assert done == ["by a timer"]
