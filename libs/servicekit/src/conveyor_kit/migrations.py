"""Alembic, configured in code: one shared async env.py and a one-call `upgrade` per service.

Migrations are raw SQL (`op.execute`); there are no ORM models to autogenerate from.
"""

from __future__ import annotations

import asyncio
import importlib
from pathlib import Path

from alembic import command, context
from alembic.config import Config
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from conveyor_kit.logging import get_logger

log = get_logger(__name__)

_URL_ATTRIBUTE = "conveyor.database_url"


def async_url(dsn: str) -> str:
    """The SQLAlchemy URL for a plain DSN: `postgresql://…` → `postgresql+asyncpg://…`."""
    scheme, sep, rest = dsn.partition("://")
    if not sep or scheme not in ("postgresql", "postgres", "postgresql+asyncpg"):
        raise ValueError("expected a postgresql:// DSN")
    return f"postgresql+asyncpg://{rest}"


def alembic_config(migrations_path: Path, database_url: str) -> Config:
    """An Alembic config without alembic.ini, pointing at a service's migrations package."""
    config = Config()
    config.set_main_option("script_location", str(migrations_path))
    # An attribute, not the `sqlalchemy.url` option: ini interpolation would mangle a `%`
    # in a password, and attributes never end up in a file.
    config.attributes[_URL_ATTRIBUTE] = async_url(database_url)
    return config


def upgrade(migrations_path: Path, database_url: str, revision: str = "heads") -> None:
    """Migrate the database to `revision`. Blocking: from async code use `upgrade_in_thread`."""
    log.info("migrating", migrations=str(migrations_path), revision=revision)
    command.upgrade(alembic_config(migrations_path, database_url), revision)
    log.info("migrated", revision=revision)


async def upgrade_in_thread(migrations_path: Path, database_url: str, revision: str = "heads") -> None:
    """`upgrade` off the event loop; env.py runs its own loop in that thread."""
    await asyncio.to_thread(upgrade, migrations_path, database_url, revision)


def execute_script(sql: str) -> None:
    """Run a multi-statement SQL script inside a migration.

    `op.execute` goes through a prepared statement, which PostgreSQL refuses for more than one
    command, so scripts go to asyncpg's simple-query protocol on the same connection and
    transaction instead.
    """
    from sqlalchemy.util import await_

    bind = context.get_bind()
    driver_connection = bind.connection.driver_connection
    assert driver_connection is not None
    await_(driver_connection.execute(sql))


def execute_backbone_ddl_v1() -> None:
    """Create the messaging library's backbone tables: every service's first revision."""
    # Imported when the revision runs, so listing revisions never needs the messaging library.
    schema = importlib.import_module("conveyor_messaging.schema")
    execute_script(schema.BACKBONE_DDL_V1)


def execute_backbone_ddl_v2() -> None:
    """The backbone's lanes (each stream's newest bulk event, parked events): every service's revision after
    its latest when the lanes came (ADR 004)."""
    schema = importlib.import_module("conveyor_messaging.schema")
    execute_script(schema.BACKBONE_DDL_V2)


def run_env() -> None:
    """The body of every service's `migrations/env.py`."""
    url = context.config.attributes.get(_URL_ATTRIBUTE)
    if url is None:
        raise RuntimeError("run migrations through conveyor_kit.migrations.upgrade")
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url))


async def _run_online(url: str) -> None:
    engine = create_async_engine(url, poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_on)
    finally:
        await engine.dispose()


def _run_on(connection: Connection) -> None:
    # One transaction per revision: a failing revision leaves the earlier ones applied.
    context.configure(connection=connection, transaction_per_migration=True)
    with context.begin_transaction():
        context.run_migrations()
