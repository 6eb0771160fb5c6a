"""Kafka security settings come from the environment the Helm chart sets."""

from __future__ import annotations

import ssl

import pytest
from conveyor_messaging.kafka import KafkaSecurity

pytestmark = pytest.mark.unit


class TestKafkaSecurity:
    def test_nothing_set_means_plaintext(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name in ("KAFKA_SECURITY_PROTOCOL", "KAFKA_SASL_MECHANISM", "KAFKA_SASL_USERNAME"):
            monkeypatch.delenv(name, raising=False)
        assert KafkaSecurity.from_env().client_options() == {"security_protocol": "PLAINTEXT"}

    def test_sasl_over_tls_carries_credentials_and_a_tls_context(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv("KAFKA_SECURITY_PROTOCOL", "SASL_SSL")
        monkeypatch.setenv("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512")
        monkeypatch.setenv("KAFKA_SASL_USERNAME", "conveyor")
        monkeypatch.setenv("KAFKA_SASL_PASSWORD", "s3cret")
        options = KafkaSecurity.from_env().client_options()
        assert options["security_protocol"] == "SASL_SSL"
        assert options["sasl_mechanism"] == "SCRAM-SHA-512"
        assert (options["sasl_plain_username"], options["sasl_plain_password"]) == ("conveyor", "s3cret")
        assert isinstance(options["ssl_context"], ssl.SSLContext)
