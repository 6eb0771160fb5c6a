"""ServiceSettings: prefixes, shared fallbacks, and refusals to run production unsafely."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from conveyor_kit.settings import PLACEHOLDER_JWT_SECRET
from pydantic import ValidationError

pytestmark = pytest.mark.unit

Make = Callable[..., Any]


class TestEnvironmentVariables:
    def test_a_prefixed_variable_sets_the_field(self, monkeypatch: pytest.MonkeyPatch, settings_cls: type[Any]) -> None:
        monkeypatch.setenv("KITTEST_PORT", "9123")
        monkeypatch.setenv("KITTEST_DATABASE_URL", "postgresql://u@db:5432/kit")

        settings = settings_cls()

        assert settings.port == 9123
        assert settings.database_url == "postgresql://u@db:5432/kit"
        assert settings.service_name == "kittest"

    def test_shared_kafka_variable_is_the_fallback(
        self, monkeypatch: pytest.MonkeyPatch, settings_cls: type[Any]
    ) -> None:
        monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "shared:9092")
        assert settings_cls().kafka_bootstrap_servers == "shared:9092"

        monkeypatch.setenv("KITTEST_KAFKA_BOOTSTRAP_SERVERS", "own:9092")
        assert settings_cls().kafka_bootstrap_servers == "own:9092"

    def test_shared_environment_and_secret_are_fallbacks(
        self, monkeypatch: pytest.MonkeyPatch, settings_cls: type[Any]
    ) -> None:
        monkeypatch.setenv("CONVEYOR_ENVIRONMENT", "test")
        monkeypatch.setenv("CONVEYOR_JWT_SECRET", "shared-secret")

        settings = settings_cls()

        assert settings.environment == "test"
        assert settings.jwt_secret.get_secret_value() == "shared-secret"

    def test_unprefixed_field_names_are_not_read(
        self, monkeypatch: pytest.MonkeyPatch, settings_cls: type[Any]
    ) -> None:
        monkeypatch.setenv("ENVIRONMENT", "production")
        monkeypatch.setenv("PORT", "1")

        settings = settings_cls()

        assert settings.environment == "development"
        assert settings.port == 8099

    def test_the_consumer_batch_wait_has_a_shared_variable_and_bounds(
        self, monkeypatch: pytest.MonkeyPatch, settings_cls: type[Any]
    ) -> None:
        assert settings_cls().consumer_batch_wait_ms is None  # each event fetched as soon as it is there

        monkeypatch.setenv("CONVEYOR_CONSUMER_BATCH_WAIT_MS", "25")
        assert settings_cls().consumer_batch_wait_ms == 25

        monkeypatch.setenv("KITTEST_CONSUMER_BATCH_WAIT_MS", "-1")
        with pytest.raises(ValidationError, match="KITTEST_CONSUMER_BATCH_WAIT_MS"):
            settings_cls()

    def test_cors_origins_are_comma_separated(self, monkeypatch: pytest.MonkeyPatch, settings_cls: type[Any]) -> None:
        monkeypatch.setenv("KITTEST_CORS_ORIGINS", "http://a.test, http://b.test")
        assert settings_cls().cors_origins == ["http://a.test", "http://b.test"]

    def test_a_non_postgres_database_url_is_refused(self, make_settings: Make) -> None:
        with pytest.raises(ValidationError):
            make_settings(database_url="mysql://u@db/kit")


class TestProductionRefusals:
    def test_the_placeholder_secret_without_jwks_is_refused(self, make_settings: Make) -> None:
        with pytest.raises(ValidationError, match="placeholder JWT secret"):
            make_settings(environment="production", jwt_secret=PLACEHOLDER_JWT_SECRET)

    def test_a_short_secret_without_jwks_is_refused(self, make_settings: Make) -> None:
        with pytest.raises(ValidationError, match="shorter than"):
            make_settings(environment="production", jwt_secret="short")

    def test_the_test_clock_is_refused(self, make_settings: Make) -> None:
        with pytest.raises(ValidationError, match="test clock"):
            make_settings(
                environment="production",
                jwt_jwks_url="https://idp.test/jwks",
                test_clock_enabled=True,
            )

    def test_a_jwks_url_makes_production_acceptable(self, make_settings: Make) -> None:
        settings = make_settings(
            environment="production",
            jwt_secret=PLACEHOLDER_JWT_SECRET,
            jwt_jwks_url="https://idp.test/jwks",
        )
        assert settings.verifies_with_jwks

    def test_refusals_do_not_echo_the_secret(self, make_settings: Make) -> None:
        with pytest.raises(ValidationError) as refused:
            make_settings(environment="production", jwt_secret="short")
        assert "short'" not in str(refused.value)

    def test_development_accepts_the_placeholder(self, make_settings: Make) -> None:
        settings = make_settings(environment="development", jwt_secret=PLACEHOLDER_JWT_SECRET)
        assert settings.jwt_secret.get_secret_value() == PLACEHOLDER_JWT_SECRET


class TestMigrations:
    def test_migrating_in_production_needs_only_the_database(
        self, monkeypatch: pytest.MonkeyPatch, settings_cls: type[Any]
    ) -> None:
        from conveyor_kit.serve import _for_migrations

        monkeypatch.setenv("CONVEYOR_ENVIRONMENT", "production")
        monkeypatch.setenv("KITTEST_DATABASE_URL", "postgresql://u@db:5432/kit")
        with pytest.raises(ValidationError, match="placeholder JWT secret"):
            settings_cls()

        settings = _for_migrations(settings_cls)

        assert settings.database_url == "postgresql://u@db:5432/kit"
        assert settings.environment == "production"
