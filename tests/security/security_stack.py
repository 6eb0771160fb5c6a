"""All five services under uvicorn in a thread of their own, on real PostgreSQL and Kafka.

The security suite mixes synchronous tests (schemathesis drives them with a blocking client) and
asynchronous ones; a server in the test session's event loop would stand still during the first
kind. So the services get a loop in a background thread, and tests reach them only over HTTP.
Each service has a fresh database, consumer groups of its own started at the end of the shared
topics, and no test clock (the production shape: schemathesis cannot move time and expire tokens).
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import io
import logging
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_kit.tokens import mint_token
from conveyor_testing.kafka import start_groups_at_end
from conveyor_testing.services import SERVICES, consumer_groups, free_port, serving_in_process

JWT_SECRET = "security-suite-secret-long-enough-for-hs256-tokens"
# Trust authentication ignores it, but every service's DSN carries it, so a log line or an error
# body that echoes a database URL is caught by the secrets test.
DATABASE_PASSWORD = "db-pa55word-never-logged"


# The one internal address the notifications service may call (its webhook allow-list): the test
# receiver listens here, and every other private address stays refused.
RECEIVER_HOST = "127.0.0.7"


@dataclass
class Receiver:
    """A webhook receiver on RECEIVER_HOST: paths under /fail answer 500, under /redirect a 302 to
    their `?to=`, others 204."""

    port: int = 0
    calls: list[tuple[str, dict[str, str], bytes]] = field(default_factory=list)

    def url(self, path: str) -> str:
        return f"http://{RECEIVER_HOST}:{self.port}{path}"

    def bodies(self, path: str) -> list[bytes]:
        return [body for called, _, body in list(self.calls) if called == path]


SMTP_USERNAME = "conveyor-mailer"
SMTP_PASSWORD = "smtp-pa55word-never-logged"


class LogTap(logging.Handler):
    """Every log line of every service, rendered by the services' own formatter (JSON lines)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.buffer = io.StringIO()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
        except Exception as error:  # a line that cannot be rendered is still evidence
            line = f"unrenderable log record {record.msg!r}: {error!r}"
        with self.lock or _NO_LOCK:
            self.buffer.write(line + "\n")

    def text(self) -> str:
        return self.buffer.getvalue()


class _NoLock:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *args: Any) -> None:
        return None


_NO_LOCK = _NoLock()


def bearer(tenant: str, user: str, *roles: str) -> dict[str, str]:
    """The Authorization header of a user of a tenant with these roles, as the services verify it."""
    token = mint_token(tenant_id=tenant, user_id=user, roles=roles, secret=JWT_SECRET, ttl_seconds=4 * 3600)
    return {"Authorization": f"Bearer {token}"}


def _with_password(dsn: str, database: str) -> str:
    scheme, _, rest = dsn.partition("://")
    credentials, _, host_and_path = rest.rpartition("@")
    user = credentials.split(":", 1)[0] or "conveyor"
    host = host_and_path.split("/", 1)[0]
    return f"{scheme.split('+', 1)[0]}://{user}:{DATABASE_PASSWORD}@{host}/{database}"


def _plain(dsn: str) -> str:
    scheme, sep, rest = dsn.partition("://")
    return scheme.split("+", 1)[0] + sep + rest


@dataclass
class ServiceStack:
    """The five services' base URLs once ``start()`` returned; ``stop()`` shuts them down."""

    postgres_dsn: str
    kafka_bootstrap: str
    # Per-service settings on top of the defaults, e.g. notifications' SMTP server.
    overrides: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    urls: dict[str, str] = field(default_factory=dict)
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _stop: asyncio.Event | None = None
    _migrating: asyncio.Lock = field(default_factory=asyncio.Lock)
    _ready: threading.Event = field(default_factory=threading.Event)
    _error: BaseException | None = None
    _databases: list[str] = field(default_factory=list)

    def start(self, within: float = 240.0) -> None:
        self._thread = threading.Thread(target=self._run, name="security-stack", daemon=True)
        self._thread.start()
        if not self._ready.wait(within):
            raise TimeoutError(f"the services did not start within {within:.0f} s")
        if self._error is not None:
            raise RuntimeError("the services did not start") from self._error

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(60)

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as error:  # reported to the thread waiting in start()
            self._error = error
            self._ready.set()

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        self._migrating = asyncio.Lock()
        try:
            async with contextlib.AsyncExitStack() as stack:
                prepared = await asyncio.gather(*(self._prepare(service) for service in SERVICES))
                for service, settings in zip(SERVICES, prepared, strict=True):
                    self.urls[service] = await stack.enter_async_context(
                        serving_in_process(service, settings, within=60, log_config=None, access_log=False)
                    )
                self._ready.set()
                await self._stop.wait()
        finally:
            await self._drop_databases()

    async def _prepare(self, service: str) -> Any:
        """A fresh migrated database, consumer groups at the end of their topics, and the settings."""
        name = f"sec_{service}_{uuid.uuid4().hex[:10]}"
        conn = await asyncpg.connect(_plain(self.postgres_dsn))
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        self._databases.append(name)
        dsn = _with_password(self.postgres_dsn, name)
        async with self._migrating:  # alembic's migration context is one per process
            await upgrade_in_thread(importlib.import_module(f"{service}.migrations").MIGRATIONS_PATH, dsn)
        suffix = f".sec-{uuid.uuid4().hex[:8]}"
        await start_groups_at_end(self.kafka_bootstrap, consumer_groups(service, suffix))
        settings_cls = importlib.import_module(f"{service}.config").Settings
        return settings_cls(
            database_url=dsn,
            kafka_bootstrap_servers=self.kafka_bootstrap,
            environment="test",
            jwt_secret=JWT_SECRET,
            consumer_group_suffix=suffix,
            host="127.0.0.1",
            port=free_port(),
            **self.overrides.get(service, {}),
        )

    async def _drop_databases(self) -> None:
        with contextlib.suppress(Exception):
            conn = await asyncpg.connect(_plain(self.postgres_dsn))
            try:
                for name in self._databases:
                    with contextlib.suppress(Exception):
                        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()
