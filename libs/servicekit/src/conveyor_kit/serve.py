"""A service's command line: `python -m <service> serve` runs uvicorn, `migrate` runs Alembic,
`topics` creates its Kafka topics."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

import uvicorn
from conveyor_messaging.kafka import KafkaSecurity
from conveyor_messaging.topics import ensure_topics, service_topics
from fastapi import FastAPI
from pydantic import model_validator

from conveyor_kit.logging import configure_logging
from conveyor_kit.migrations import upgrade
from conveyor_kit.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run the app under uvicorn on the configured host and port until interrupted."""
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        # Logging is ours (JSON lines with correlation ids); the request log line comes
        # from CorrelationIdMiddleware, so uvicorn's access log would only repeat it.
        log_config=None,
        access_log=False,
        # Graceful shutdown: in-flight requests finish and the lifespan closes pools.
        timeout_graceful_shutdown=10,
    )


def service_main(
    settings_cls: type[S],
    app_factory: Callable[[S], FastAPI],
    migrations_path: Path,
    argv: Sequence[str] | None = None,
    *,
    consumers: Mapping[str, Sequence[str]] | None = None,
) -> int:
    """Dispatch `serve`, `migrate [--revision R]` or `topics [--partitions N] [--replication-factor R]`;
    the whole of a service's `__main__`. ``consumers``: the service's consumer groups (name → topics),
    whose topics and dead-letter topics `topics` creates besides the ones the service publishes."""
    service = settings_cls.model_config.get("env_prefix", "").rstrip("_").lower()
    parser = argparse.ArgumentParser(prog=f"python -m {service}")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="run the HTTP API (and workers, if enabled)")
    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.add_argument("--revision", default="heads", help="target revision (default: every branch head)")
    topics = commands.add_parser("topics", help="create the Kafka topics the service publishes and consumes")
    topics.add_argument("--partitions", type=int, default=3, help="for new topics (default: 3)")
    topics.add_argument("--replication-factor", type=int, default=1, help="for new topics (default: 1)")
    args = parser.parse_args(argv)

    if args.command == "topics":
        task_settings = _for_migrations(settings_cls)
        configure_logging(task_settings.log_level)
        plans = service_topics(service, consumers or {}, group_suffix=task_settings.consumer_group_suffix)
        created, present = asyncio.run(
            ensure_topics(
                task_settings.kafka_bootstrap_servers, plans, partitions=args.partitions,
                replication_factor=args.replication_factor, security=KafkaSecurity.from_env(),
            )
        )  # fmt: skip
        print(f"{service} topics: {len(created)} created, {len(present)} already there")
        for name in created:
            print(f"  created {name}")
        return 0

    if args.command == "migrate":
        migration_settings = _for_migrations(settings_cls)
        configure_logging(migration_settings.log_level)
        upgrade(migrations_path, migration_settings.database_url, args.revision)
        return 0
    settings = settings_cls()
    configure_logging(settings.log_level)
    serve(app_factory(settings), settings)
    return 0


def _for_migrations(settings_cls: type[S]) -> S:
    """The settings without the production checks of serving: migrating needs only the database (and
    creating topics only Kafka), and a migration job should not have to carry the JWT secret."""

    class MigrationSettings(settings_cls):  # type: ignore[valid-type,misc]
        @model_validator(mode="after")
        def _refuse_unsafe_production(self) -> MigrationSettings:
            return self

    settings: S = MigrationSettings()
    return settings
