"""Read your own writes across services: a consistency token names the events a request wrote, and a
service that consumes them can wait until it has applied them before it answers.

A write's answer carries the token in the `Conveyor-Consistency` header: for each topic it wrote to,
the last event's topic, id and time (`conveyor.entities.entity_type/6f1c…/1765098110123`, entries
joined by commas; an aggregate's events share a topic and arrive in order, so the last one stands for
all). A client sends it back on its next request to any service. That service looks, for each entry
of a topic it consumes, for the event's processed mark (`processed_events`, written in the same
transaction as the event's effects) under every one of its consumer groups of that topic, and
answers once all are there (conveyor_kit.consistency bounds the wait and answers 503 with Retry-After after it).
Entries of the service's own topics, of topics it does not consume, or older than the marks can be
(`MAX_AGE`) need no wait.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import TYPE_CHECKING

from conveyor_messaging.contracts import topic_for
from conveyor_messaging.db import Connection

if TYPE_CHECKING:
    from conveyor_messaging.eventstore import RecordedEvent

HEADER = "Conveyor-Consistency"
# Marks are kept for hours (processed_marks_retention_hours); a token older than this is surely applied
# or surely beyond waiting for, and is not waited on.
MAX_AGE_MS = 10 * 60 * 1000
MAX_ENTRIES = 16


@dataclass(frozen=True, slots=True)
class Written:
    """The last event a request wrote to one topic."""

    topic: str
    event_id: str
    at_ms: int

    def __str__(self) -> str:
        return f"{self.topic}/{self.event_id}/{self.at_ms}"


class BadToken(ValueError):
    """A header that is no consistency token this system gave out."""


_written: ContextVar[list[Written] | None] = ContextVar("conveyor_written", default=None)


@contextmanager
def collecting() -> Iterator[list[Written]]:
    """Collect what the code inside appends to an event store (one request's writes)."""
    written: list[Written] = []
    token = _written.set(written)
    try:
        yield written
    finally:
        _written.reset(token)


def note(events: Iterable[RecordedEvent]) -> None:
    """Called by the event store after an append: remember its events, if a request collects them."""
    written = _written.get()
    if written is None:
        return
    now_ms = int(time.time() * 1000)
    for event in events:
        written.append(Written(topic_for(event.type), str(event.event_id), now_ms))


def token_of(written: Sequence[Written]) -> str | None:
    """The header value for a request's writes: the last event per topic; None for no write."""
    last: dict[str, Written] = {}
    for entry in written:
        last.pop(entry.topic, None)
        last[entry.topic] = entry
    return ",".join(str(entry) for entry in last.values()) or None


def parse_token(header: str) -> list[Written]:
    """The entries of a token; BadToken for anything this system did not give out."""
    entries = [part.strip() for part in header.split(",") if part.strip()]
    if not entries or len(entries) > MAX_ENTRIES:
        raise BadToken(f"a consistency token has 1 to {MAX_ENTRIES} entries")
    parsed = []
    for entry in entries:
        topic, _, rest = entry.partition("/")
        event_id, _, at = rest.partition("/")
        if not topic.startswith("conveyor.") or not event_id or len(event_id) > 64 or not at.isdigit():
            raise BadToken(f"{entry[:80]!r} is not an entry of a consistency token")
        parsed.append(Written(topic, event_id, int(at)))
    return parsed


def to_wait_for(
    entries: Sequence[Written], *, service: str, consumers: Mapping[str, Sequence[str]], now_ms: int | None = None
) -> dict[str, list[str]]:
    """Event id -> the consumer groups of this service that apply it, for the entries worth waiting on."""
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    wanted: dict[str, list[str]] = {}
    for entry in entries:
        if entry.topic.startswith(f"conveyor.{service}.") or now_ms - entry.at_ms > MAX_AGE_MS:
            continue
        groups = consumers.get(entry.topic)
        if groups:
            wanted[entry.event_id] = list(groups)
    return wanted


async def missing(conn: Connection, wanted: Mapping[str, Sequence[str]]) -> list[str]:
    """The event ids of ``wanted`` that one of their consumer groups has not applied yet."""
    if not wanted:
        return []
    pairs = [(event_id, group) for event_id, groups in wanted.items() for group in groups]
    rows = await conn.fetch(
        "SELECT w.event_id, w.consumer FROM unnest($1::text[], $2::text[]) AS w(event_id, consumer)"
        " WHERE NOT EXISTS (SELECT 1 FROM processed_events p"
        " WHERE p.consumer = w.consumer AND p.event_id = w.event_id)",
        [event_id for event_id, _ in pairs],
        [group for _, group in pairs],
    )
    return sorted({row["event_id"] for row in rows})
