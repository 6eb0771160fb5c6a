"""CloudEvents 1.0 envelope and its Kafka binary content mode (ce_ headers, JSON data).

Extension attribute names follow the CloudEvents rule (lower-case letters and digits only):
``tenantid``, ``correlationid``, ``causationid``, ``actor``, ``aggregateversion``, and for the lanes
(``lanes.py``) ``lane`` (only when ``bulk``) and ``afterbulk`` (the bulk event of the stream that
must be applied first).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

import orjson

from conveyor_messaging.actor import Actor

SPEC_VERSION = "1.0"
JSON = "application/json"

_REQUIRED_HEADERS = ("ce_id", "ce_source", "ce_type", "ce_specversion", "ce_tenantid")


class MalformedMessage(ValueError):
    """A Kafka record that is not a decodable Conveyor CloudEvent; it goes to the dead letters."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """One event as it travels between services: CloudEvents context plus the JSON data."""

    type: str
    source: str
    subject: str
    tenant_id: str
    data: dict[str, Any]
    actor: Actor
    aggregate_version: int = 0
    id: str = field(default_factory=lambda: str(uuid.uuid4()))
    time: datetime = field(default_factory=lambda: datetime.now(UTC))
    correlation_id: str | None = None
    causation_id: str | None = None
    specversion: str = SPEC_VERSION
    datacontenttype: str = JSON
    lane: str = "interactive"
    after_bulk: str | None = None  # the id of the stream's bulk event this one must follow

    def caused(self, **changes: Any) -> Envelope:
        """A copy for an event this one caused: same correlation and lane, causation = this event's id."""
        return replace(
            self,
            id=str(uuid.uuid4()),
            correlation_id=self.correlation_id or self.id,
            causation_id=self.id,
            after_bulk=None,
            **changes,
        )


def _headers(env: Envelope) -> list[tuple[str, bytes]]:
    headers = [
        ("ce_specversion", env.specversion.encode()),
        ("ce_id", env.id.encode()),
        ("ce_source", env.source.encode()),
        ("ce_type", env.type.encode()),
        ("ce_subject", env.subject.encode()),
        ("ce_time", env.time.isoformat().encode()),
        ("ce_tenantid", env.tenant_id.encode()),
        ("ce_actor", str(env.actor).encode()),
        ("ce_aggregateversion", str(env.aggregate_version).encode()),
        ("content-type", env.datacontenttype.encode()),
    ]
    if env.correlation_id:
        headers.append(("ce_correlationid", env.correlation_id.encode()))
    if env.causation_id:
        headers.append(("ce_causationid", env.causation_id.encode()))
    if env.lane != "interactive":
        headers.append(("ce_lane", env.lane.encode()))
    if env.after_bulk:
        headers.append(("ce_afterbulk", env.after_bulk.encode()))
    return headers


def to_kafka(env: Envelope, *, data_json: bytes | None = None) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """Key (the aggregate id, so one aggregate's events share a partition), value and headers.

    ``data_json`` lets the relay pass the JSON exactly as stored, without a decode/encode trip.
    """
    value = data_json if data_json is not None else orjson.dumps(env.data)
    return env.subject.encode(), value, _headers(env)


def from_kafka(
    key: bytes | None, value: bytes | None, headers: list[tuple[str, bytes]] | tuple[tuple[str, bytes], ...]
) -> Envelope:
    """Decode a binary-mode CloudEvent; raise MalformedMessage with the reason otherwise."""
    try:
        h = {k: v.decode() for k, v in headers}
    except (UnicodeDecodeError, AttributeError, ValueError) as exc:
        raise MalformedMessage(f"undecodable headers: {exc}") from exc
    missing = [name for name in _REQUIRED_HEADERS if not h.get(name)]
    if missing:
        raise MalformedMessage(f"missing CloudEvents headers: {', '.join(missing)}")
    if h["ce_specversion"] != SPEC_VERSION:
        raise MalformedMessage(f"unsupported specversion {h['ce_specversion']!r}")
    if value is None:
        raise MalformedMessage("empty value")
    try:
        data = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        raise MalformedMessage(f"data is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise MalformedMessage("data must be a JSON object")
    try:
        time = datetime.fromisoformat(h["ce_time"]) if h.get("ce_time") else datetime.now(UTC)
        actor = Actor.parse(h.get("ce_actor", "system:unknown"))
        version = int(h.get("ce_aggregateversion", "0"))
    except ValueError as exc:
        raise MalformedMessage(str(exc)) from exc
    subject = h.get("ce_subject") or (key.decode(errors="replace") if key else "")
    return Envelope(
        id=h["ce_id"],
        source=h["ce_source"],
        type=h["ce_type"],
        subject=subject,
        time=time,
        tenant_id=h["ce_tenantid"],
        data=data,
        actor=actor,
        aggregate_version=version,
        correlation_id=h.get("ce_correlationid"),
        causation_id=h.get("ce_causationid"),
        specversion=h["ce_specversion"],
        datacontenttype=h.get("content-type", JSON),
        lane=h.get("ce_lane") or "interactive",
        after_bulk=h.get("ce_afterbulk") or None,
    )
