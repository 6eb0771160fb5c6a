"""The CloudEvents envelope survives the trip through Kafka's binary content mode."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from conveyor_messaging.actor import Actor
from conveyor_messaging.envelope import Envelope, MalformedMessage, from_kafka, to_kafka

pytestmark = pytest.mark.unit


def an_envelope() -> Envelope:
    return Envelope(
        type="conveyor.entities.item.created.v1",
        source="/conveyor/entities",
        subject="item-42",
        tenant_id="acme",
        data={"title": "Ball", "amount": "300.00"},
        actor=Actor("robot", "r-7"),
        aggregate_version=3,
        time=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        correlation_id="corr-1",
        causation_id="cause-1",
    )


class TestBinaryContentMode:
    def test_round_trip_keeps_every_attribute(self) -> None:
        env = an_envelope()
        key, value, headers = to_kafka(env)
        assert from_kafka(key, value, headers) == env

    def test_key_is_the_aggregate_id_so_an_aggregate_stays_on_one_partition(self) -> None:
        key, _, _ = to_kafka(an_envelope())
        assert key == b"item-42"

    def test_context_travels_as_ce_headers_and_data_as_json(self) -> None:
        _, value, headers = to_kafka(an_envelope())
        h = dict(headers)
        assert h["ce_specversion"] == b"1.0"
        assert h["ce_type"] == b"conveyor.entities.item.created.v1"
        assert h["ce_tenantid"] == b"acme"
        assert h["ce_actor"] == b"robot:r-7"
        assert h["content-type"] == b"application/json"
        assert value == b'{"title":"Ball","amount":"300.00"}'

    def test_caused_event_keeps_correlation_and_points_to_its_cause(self) -> None:
        env = an_envelope()
        child = env.caused(type="conveyor.pipelines.item.moved.v1")
        assert child.correlation_id == "corr-1"
        assert child.causation_id == env.id
        assert child.id != env.id


class TestMalformedMessages:
    @pytest.mark.parametrize(
        ("value", "drop", "reason"),
        [
            (b"{not json", None, "not JSON"),
            (b"[1, 2]", None, "JSON object"),
            (b"{}", "ce_tenantid", "ce_tenantid"),
            (b"{}", "ce_type", "ce_type"),
            (None, None, "empty value"),
        ],
    )
    def test_are_refused_with_the_reason(self, value: bytes | None, drop: str | None, reason: str) -> None:
        key, _, headers = to_kafka(an_envelope())
        headers = [(k, v) for k, v in headers if k != drop]
        with pytest.raises(MalformedMessage, match=reason):
            from_kafka(key, value, headers)

    def test_a_bad_actor_header_is_refused(self) -> None:
        key, value, headers = to_kafka(an_envelope())
        headers = [(k, b"nobody" if k == "ce_actor" else v) for k, v in headers]
        with pytest.raises(MalformedMessage, match="actor"):
            from_kafka(key, value, headers)
