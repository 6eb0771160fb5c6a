"""End-to-end fixtures: the services run with uvicorn on free loopback ports, on real PostgreSQL and
Kafka, each with a fresh database; tests reach them through HTTP only, with `ServiceClient`."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_kit.tokens import mint_token
from conveyor_testing.kafka import start_groups_at_end
from conveyor_testing.services import consumer_groups, free_port, serving_in_process

E2E_SECRET = "e2e-test-secret-long-enough-for-hs256-tokens"


@dataclass
class ServiceClient:
    """One running service seen from outside: its base URL and a client that speaks for a user."""

    base_url: str
    http: httpx.AsyncClient

    def auth(self, tenant: str, user: str, roles: tuple[str, ...], at: datetime | None = None) -> dict[str, str]:
        """A bearer token; ``at`` mints it at that instant, for services whose test clock was moved."""
        token = mint_token(tenant_id=tenant, user_id=user, roles=roles, secret=E2E_SECRET, now=at)
        return {"Authorization": f"Bearer {token}"}

    def as_user(self, tenant: str, user: str, *roles: str) -> UserClient:
        return UserClient(self, tenant, user, tuple(roles))


@dataclass
class UserClient:
    """Requests as one user of one tenant; `ok` asserts success and returns the JSON."""

    service: ServiceClient
    tenant: str
    user: str
    roles: tuple[str, ...]
    at: datetime | None = None  # tokens minted at this instant (a service whose test clock moved)

    async def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {**self.service.auth(self.tenant, self.user, self.roles, self.at), **kwargs.pop("headers", {})}
        if body is not None:
            kwargs["json"] = body
        return await self.service.http.request(method, self.service.base_url + path, headers=headers, **kwargs)

    async def ok(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = await self.call(method, path, body, **kwargs)
        assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None


def _plain(dsn: str) -> str:
    """asyncpg wants postgresql:// (no SQLAlchemy-style "+driver" suffix)."""
    scheme, sep, rest = dsn.partition("://")
    return scheme.split("+", 1)[0] + sep + rest


async def _new_database(infra: Any) -> tuple[str, str]:
    name = f"e2e_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(_plain(infra.postgres_dsn))
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return name, infra.dsn_for(name)


async def _drop_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(_plain(admin_dsn))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@dataclass(frozen=True)
class ServiceHome:
    """What a service keeps between runs: its database and its consumer groups (their suffix, and the
    topics of each). ``async with home.run() as service`` runs it; a second run is a restart."""

    infra: Any
    service: str
    dsn: str
    suffix: str
    groups: dict[str, list[str]]

    def run(self, **overrides: Any) -> contextlib.AbstractAsyncContextManager[ServiceClient]:
        return _serve(self, **overrides)


@contextlib.asynccontextmanager
async def service_home(infra: Any, service: str) -> AsyncIterator[ServiceHome]:
    """A fresh database (migrated) and consumer groups of the service's own, started at the end of
    their topics; the database is dropped afterwards."""
    migrations_path = importlib.import_module(f"{service}.migrations").MIGRATIONS_PATH

    name, dsn = await _new_database(infra)
    try:
        suffix = f".e2e-{uuid.uuid4().hex[:8]}"
        await upgrade_in_thread(migrations_path, dsn)
        groups = consumer_groups(service, suffix)
        await start_groups_at_end(infra.kafka_bootstrap, groups)
        yield ServiceHome(infra=infra, service=service, dsn=dsn, suffix=suffix, groups=groups)
    finally:
        with contextlib.suppress(Exception):
            await _drop_database(infra.postgres_dsn, name)


@contextlib.asynccontextmanager
async def _serve(home: ServiceHome, **overrides: Any) -> AsyncIterator[ServiceClient]:
    """The service on its home's database and consumer groups, on a free port (uvicorn, in this
    process), until the block ends."""
    settings = importlib.import_module(f"{home.service}.config").Settings(
        database_url=home.dsn,
        kafka_bootstrap_servers=home.infra.kafka_bootstrap,
        environment="test",
        jwt_secret=E2E_SECRET,
        consumer_group_suffix=home.suffix,
        test_clock_enabled=True,
        host="127.0.0.1",
        port=free_port(),
        **overrides,
    )
    async with (
        serving_in_process(home.service, settings, within=30, log_level="warning") as base_url,
        httpx.AsyncClient(timeout=30) as http,
    ):
        yield ServiceClient(base_url=base_url, http=http)


@contextlib.asynccontextmanager
async def running_service(infra: Any, service: str, **overrides: Any) -> AsyncIterator[ServiceClient]:
    """One service on a free port (uvicorn, in this process), its own database and consumer groups;
    ``overrides`` are more of its settings (e.g. the notifications service's SMTP port)."""
    async with service_home(infra, service) as home, home.run(**overrides) as running:
        yield running


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def entities_service(infra: Any) -> AsyncIterator[ServiceClient]:
    """The entities service, running for the whole session."""
    async with running_service(infra, "entities") as service:
        yield service


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def pipelines_service(infra: Any, entities_service: ServiceClient) -> AsyncIterator[ServiceClient]:
    """The pipelines service, running for the whole session beside the entities service."""
    async with running_service(infra, "pipelines") as service:
        yield service


@pytest.fixture
def start_service(infra: Any) -> Callable[..., contextlib.AbstractAsyncContextManager[ServiceClient]]:
    """``async with start_service("automation") as service``: a service of the test's own (its own
    database, consumer groups and test clock), for stories that move clocks forward by days;
    ``start_service("notifications", smtp_port=port)`` adds settings."""
    return lambda service, **overrides: running_service(infra, service, **overrides)


@pytest.fixture(scope="session")
def start_shared_service(infra: Any) -> Callable[..., contextlib.AbstractAsyncContextManager[ServiceClient]]:
    """``start_service`` for module-scoped fixtures: a story played once, whose outcome several tests read."""
    return lambda service, **overrides: running_service(infra, service, **overrides)


@pytest.fixture
def service_homes(infra: Any) -> Callable[[str], contextlib.AbstractAsyncContextManager[ServiceHome]]:
    """``async with service_homes("automation") as home``, then ``async with home.run() as service`` as
    often as the story restarts the service: the same database and consumer groups every time."""
    return lambda service: service_home(infra, service)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def reporting_service(infra: Any, entities_service: ServiceClient) -> AsyncIterator[ServiceClient]:
    """The reporting service, running for the whole session beside the entities service."""
    async with running_service(infra, "reporting") as service:
        yield service


@pytest.fixture
def settled() -> Any:
    """``await settled(probe, accept)``: the probe's value once ``accept`` takes it (or after 15 s)."""
    return _settled


async def _settled(probe: Any, accept: Any, *, within: float = 15.0) -> Any:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await probe()
        if accept(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)
