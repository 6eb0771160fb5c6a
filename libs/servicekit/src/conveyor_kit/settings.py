"""Typed settings every Conveyor service subclasses with its own environment prefix."""

from __future__ import annotations

import json
from copy import copy
from pathlib import Path
from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    AliasChoices,
    BeforeValidator,
    Field,
    PostgresDsn,
    SecretStr,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PLACEHOLDER_JWT_SECRET = "dev-insecure-secret"
# Long enough that brute-forcing an HS256 key is not an option (RFC 7518 §3.2).
MIN_PRODUCTION_SECRET_LENGTH = 32

Environment = Literal["development", "test", "production"]


def _plain_postgres_dsn(value: str) -> str:
    # asyncpg takes plain postgresql:// DSNs; driver-qualified URLs are derived where needed.
    PostgresDsn(value)
    if not value.startswith(("postgresql://", "postgres://")):
        raise ValueError("database_url must be a plain postgresql:// DSN")
    return value


def _comma_separated(value: Any) -> Any:
    # Operators write `a,b`; JSON lists are accepted too so compose files may use either.
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            return json.loads(text)
        return [item.strip() for item in text.split(",") if item.strip()]
    return value


DatabaseUrl = Annotated[str, AfterValidator(_plain_postgres_dsn)]
Origins = Annotated[list[str], NoDecode, BeforeValidator(_comma_separated)]

# Fields that all services usually share on one host, so one variable can serve all five;
# a service's own prefixed variable still wins.
SHARED_FALLBACKS: dict[str, str] = {
    "kafka_bootstrap_servers": "KAFKA_BOOTSTRAP_SERVERS",
    "environment": "CONVEYOR_ENVIRONMENT",
    "jwt_secret": "CONVEYOR_JWT_SECRET",
    "jwt_jwks_url": "CONVEYOR_JWT_JWKS_URL",
    "jwt_issuer": "CONVEYOR_JWT_ISSUER",
    "jwt_audience": "CONVEYOR_JWT_AUDIENCE",
    "test_clock_enabled": "CONVEYOR_TEST_CLOCK_ENABLED",
    "test_clock_file": "CONVEYOR_TEST_CLOCK_FILE",
    "consumer_batch_wait_ms": "CONVEYOR_CONSUMER_BATCH_WAIT_MS",
    "processed_marks_retention_hours": "CONVEYOR_PROCESSED_MARKS_RETENTION_HOURS",
    "cors_origins": "CONVEYOR_CORS_ORIGINS",
    "consistency_wait_seconds": "CONVEYOR_CONSISTENCY_WAIT_SECONDS",
}


class ServiceSettings(BaseSettings):
    """Settings shared by every service; subclasses set `env_prefix` and their default port."""

    # Inputs may hold secrets, so validation errors must not echo them.
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True, hide_input_in_errors=True)

    database_url: DatabaseUrl = "postgresql://conveyor@127.0.0.1:15432/conveyor"
    host: str = "127.0.0.1"
    port: int = 8000
    kafka_bootstrap_servers: str = "127.0.0.1:19092"
    environment: Environment = "development"
    log_level: str = "INFO"

    jwt_secret: SecretStr = SecretStr(PLACEHOLDER_JWT_SECRET)
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None

    # Browser origins allowed to call the API (CORS); an entry may end in ``:*`` for any port of
    # that host (``http://localhost:*``, what `make run` allows). Empty: no CORS headers at all.
    cors_origins: Origins = []
    run_workers: bool = True
    # Appended to every consumer group name (`<service>.<subscription><suffix>`): a copy of the
    # service with its own database on the same Kafka (a test, a blue/green deployment) needs its
    # own groups, or the two would split the partitions between them.
    consumer_group_suffix: str = ""
    # How long a consumer lets events gather before fetching them (for the subscriptions that do
    # not set their own): one fetch, one transaction and one offset commit for all of them, at the
    # price of up to that much latency per hop. None: fetch each event as soon as it is there.
    consumer_batch_wait_ms: int | None = Field(default=None, ge=0, le=5000)
    # How long a consumer keeps the mark of an event it applied (docs/events.md, "Processed marks").
    # A repeat of an event comes while the mark is kept: a redelivery after a crash between the
    # database commit and the offset commit, or a relay publishing its last batch again after a
    # crash. Both come when the crashed process runs again, so the retention must outlast the
    # longest outage; 0 keeps marks forever.
    processed_marks_retention_hours: int = Field(default=14 * 24, ge=0)
    test_clock_enabled: bool = False
    # One clock for every service of a machine (conveyor_kit.shared_clock): a path here is the test
    # clock (it implies `test_clock_enabled`); the services naming the same file share one time.
    test_clock_file: Path | None = None
    max_body_bytes: int = 1024 * 1024
    # Paths (without the ingress prefix) whose bodies may be larger, with their own limit: routes that
    # stream the body to disk instead of reading it (the entities service's import uploads).
    large_body_paths: dict[str, int] = Field(default_factory=dict)
    # How long a request that sends a `Conveyor-Consistency` token waits for this service to apply the
    # events it names before answering 503 not-yet-consistent (conveyor_kit.consistency).
    consistency_wait_seconds: float = Field(default=5.0, ge=0, le=60)
    root_path: str = ""  # the path prefix an ingress serves the service under, e.g. "/entities"
    ready_check_timeout_seconds: float = 2.0

    shared_fallbacks: ClassVar[dict[str, str]] = SHARED_FALLBACKS

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        # A validation alias replaces the prefix, so each subclass gets its own pair of
        # names: `<PREFIX>FIELD` first, then the shared variable.
        super().__pydantic_init_subclass__(**kwargs)
        prefix = cls.model_config.get("env_prefix", "")
        for name, shared in cls.shared_fallbacks.items():
            field = copy(cls.__pydantic_fields__[name])
            field.validation_alias = AliasChoices(f"{prefix}{name}".upper(), shared)
            cls.__pydantic_fields__[name] = field
        cls.model_rebuild(force=True)

    @property
    def service_name(self) -> str:
        """The service's name, taken from its prefix (`PIPELINES_` → `pipelines`)."""
        return str(self.model_config.get("env_prefix", "")).rstrip("_").lower() or "conveyor"

    @property
    def has_test_clock(self) -> bool:
        """Whether the clock can be moved (``/v1/test/clock``): per service, or shared through a file."""
        return self.test_clock_enabled or self.test_clock_file is not None

    @property
    def verifies_with_jwks(self) -> bool:
        """Whether bearer tokens are RS256, checked against the JWKS, rather than HS256."""
        return self.jwt_jwks_url is not None

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> ServiceSettings:
        if self.environment != "production":
            return self
        problems: list[str] = []
        secret = self.jwt_secret.get_secret_value()
        if not self.verifies_with_jwks:
            if secret == PLACEHOLDER_JWT_SECRET:
                problems.append("the placeholder JWT secret; set a JWKS URL (RS256)")
            elif len(secret) < MIN_PRODUCTION_SECRET_LENGTH:
                problems.append(f"a JWT secret shorter than {MIN_PRODUCTION_SECRET_LENGTH}")
        if self.has_test_clock:
            problems.append("the test clock enabled")
        if problems:
            raise ValueError("refusing to run in production with " + " and ".join(problems))
        return self
