"""Two lanes for events: people's interactive work, and bulk work that must not queue in front of it.

A command started by bulk work (a CSV import, a mass update, a replay) runs inside ``bulk_lane()``:
the events it appends carry ``lane: bulk`` in their metadata, and so does everything they cause (a
consumer binds the lane of the event it reacts to). The relay publishes bulk events to a twin topic,
``<topic>.bulk``; every consumer reads both and takes the interactive ones first.

Each stream keeps its order across the lanes with a barrier: once a stream has a bulk event, every
interactive event appended to it names that event (``after_bulk``), and a consumer applies it only
once it has applied the bulk event (its processed mark), parking it meanwhile (ADR 004).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

import structlog

INTERACTIVE = "interactive"
BULK = "bulk"
BULK_SUFFIX = ".bulk"


def bulk_topic(topic: str) -> str:
    return topic + BULK_SUFFIX


def both_lanes(topics: Iterable[str]) -> list[str]:
    """The topics and their bulk twins, as a consumer subscribes to them."""
    named = list(topics)
    return list(dict.fromkeys([*named, *(bulk_topic(t) for t in named if not t.endswith(BULK_SUFFIX))]))


def is_bulk_topic(topic: str) -> bool:
    return topic.endswith(BULK_SUFFIX)


@contextmanager
def bulk_lane() -> Iterator[None]:
    """Everything appended inside goes by the bulk lane."""
    with structlog.contextvars.bound_contextvars(lane=BULK):
        yield


def current_lane() -> str:
    lane = structlog.contextvars.get_contextvars().get("lane")
    return BULK if lane == BULK else INTERACTIVE
