"""Batch reactions: a consumer hands a reaction every new event of its types from one fetch at once.

A reaction that sees a hundred ``ItemCreated`` together writes them with one statement per kind of
change (``INSERT … SELECT FROM unnest(...)``), where a per-event handler pays several round trips
for each. The consumer calls the batch handler inside the fetch's transaction, with the events
already deduplicated (the processed marks) and in each aggregate's order.

``route_batches`` groups a fetch into runs, one reaction per run. Kafka orders events only per key
(the aggregate), so a run may take an event ahead of events of other aggregates, never ahead of an
earlier event of its own: ``[Created A, Updated A, Created B]`` becomes ``[Created A, Created B]``
then ``[Updated A]``. A reaction must still expect one aggregate more than once in its run (two
updates of one item fetched together) and apply them in the order given.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager

import structlog

from conveyor_messaging.db import Connection
from conveyor_messaging.envelope import Envelope
from conveyor_messaging.eventstore import EventStore

# One event at a time (rare events, or work that is not set-based).
Handler = Callable[[Connection, Envelope], Awaitable[None]]
# Every new event of a fetch (what a consumer calls); and a reaction to one run of them.
BatchHandler = Callable[[Connection, Sequence[Envelope]], Awaitable[None]]
BatchReaction = BatchHandler


def _key(event: Envelope) -> tuple[str, str]:
    return event.tenant_id, event.subject


def in_runs(
    events: Sequence[Envelope], reaction_of: Callable[[Envelope], object | None]
) -> list[tuple[object, list[Envelope]]]:
    """Runs of events that share a reaction, each aggregate's events kept in their order.

    An event joins the newest run of its reaction unless an earlier event of its aggregate sits in a
    later run; then it starts a new run at the end. Events without a reaction are left out.
    """
    runs: list[tuple[object, list[Envelope]]] = []
    newest_run_of: dict[int, int] = {}  # id(reaction) -> index of its newest run
    run_of_key: dict[tuple[str, str], int] = {}  # aggregate -> index of the run of its last event
    for event in events:
        reaction = reaction_of(event)
        if reaction is None:
            continue
        key = _key(event)
        index = newest_run_of.get(id(reaction))
        if index is None or index < run_of_key.get(key, 0):
            index = len(runs)
            runs.append((reaction, []))
            newest_run_of[id(reaction)] = index
        runs[index][1].append(event)
        run_of_key[key] = index
    return runs


def route_batches(reactions: Mapping[str, BatchReaction]) -> BatchHandler:
    """One batch handler that gives each reaction its runs; types nobody reacts to are skipped."""

    async def dispatch(conn: Connection, events: Sequence[Envelope]) -> None:
        for reaction, run in in_runs(events, lambda event: reactions.get(event.type)):
            assert callable(reaction)
            await reaction(conn, run)

    return dispatch


# A service's set-based reaction that records events: (connection, the service's store, its run).
RecordingReaction = Callable[[Connection, EventStore, Sequence[Envelope]], Awaitable[None]]


def recording_in(store: EventStore, reaction: RecordingReaction) -> BatchReaction:
    """``reaction`` given the service's event store (which holds SQL, no connection)."""

    async def react(conn: Connection, events: Sequence[Envelope]) -> None:
        await reaction(conn, store, events)

    return react


def in_turn(*reactions: RecordingReaction) -> RecordingReaction:
    """Several reactions to one type of event, each given the whole run in the order listed, in one
    transaction: a routing table then names each reaction once, e.g. a move ends the tasks of the
    stage the item left and schedules the robots of the stage it entered."""

    async def each(conn: Connection, store: EventStore, events: Sequence[Envelope]) -> None:
        for reaction in reactions:
            await reaction(conn, store, events)

    return each


def caused_by(event: Envelope) -> AbstractContextManager[None]:
    """Bind ``event``'s ids and lane to the log context, and so to the metadata of the events appended inside:
    what a batch reaction wraps around the work it does for one event of its run."""
    return structlog.contextvars.bound_contextvars(
        correlation_id=event.correlation_id or event.id,
        causation_id=event.id,
        tenant_id=event.tenant_id,
        lane=event.lane,  # what a bulk event causes goes by the bulk lane too (lanes.py)
    )


def one_at_a_time(handle: Handler) -> BatchHandler:
    """A per-event handler as a batch handler: each event in turn, with its ids bound (``caused_by``)."""

    async def each(conn: Connection, events: Sequence[Envelope]) -> None:
        for event in events:
            with caused_by(event):
                await handle(conn, event)

    return each


def route(handlers: Mapping[str, Handler]) -> Handler:
    """One handler that dispatches on the event type; types nobody handles are skipped."""

    async def dispatch(conn: Connection, event: Envelope) -> None:
        handler = handlers.get(event.type)
        if handler is not None:
            await handler(conn, event)

    return dispatch


def route_mixed(batch: Mapping[str, BatchReaction], single: Mapping[str, Handler]) -> BatchHandler:
    """Batch reactions for the hot types, per-event handlers for the rare ones, in one consumer.

    Both kinds go through the same runs, so an aggregate's events keep their order whichever kind
    handles them.
    """
    overlap = batch.keys() & single.keys()
    if overlap:
        raise ValueError(f"types with both a batch reaction and a handler: {sorted(overlap)}")
    wrapped = {handler: one_at_a_time(handler) for handler in set(single.values())}
    reactions: dict[str, BatchReaction] = {**batch, **{t: wrapped[h] for t, h in single.items()}}
    return route_batches(reactions)
