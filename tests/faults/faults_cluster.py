"""The five services as real OS processes (`conveyor_testing.services.ServiceProcess`) on the test
session's PostgreSQL and Kafka: each with a database of its own, consumer groups of its own started
at the end of the shared topics, and a port of its own. A process can be killed with SIGKILL and
started again; extra replicas of a service join its consumer groups."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_kit.tokens import mint_token
from conveyor_testing.kafka import start_groups_at_end
from conveyor_testing.services import READY_WITHIN, SERVICES, ServiceProcess, consumer_groups, free_port
from faults_db import connection

JWT_SECRET = "faults-test-secret-long-enough-for-hs256-tokens"


@dataclass
class Cluster:
    """The five services, their databases and what tests need to reach and audit them."""

    run_id: str
    admin_dsn: str
    kafka_bootstrap: str
    log_dir: Path
    dsn_for: Any  # database name → DSN on the admin server
    processes: dict[str, ServiceProcess] = field(default_factory=dict)
    replicas: list[ServiceProcess] = field(default_factory=list)
    http: httpx.AsyncClient = field(default_factory=lambda: httpx.AsyncClient(timeout=30))

    @property
    def suffix(self) -> str:
        return f".faults-{self.run_id}"

    def database(self, service: str) -> str:
        return f"faults_{self.run_id}_{service}"

    def dsn(self, service: str) -> str:
        return str(self.dsn_for(self.database(service)))

    def url(self, service: str) -> str:
        return self.processes[service].base_url

    def groups(self, service: str) -> dict[str, list[str]]:
        return consumer_groups(service, self.suffix)

    def token(self, tenant: str, user: str, *roles: str) -> str:
        return mint_token(tenant_id=tenant, user_id=user, roles=roles, secret=JWT_SECRET, ttl_seconds=24 * 3600)

    def service_env(self, service: str) -> dict[str, str]:
        prefix = service.upper()
        return {
            **os.environ,
            f"{prefix}_DATABASE_URL": self.dsn(service),
            f"{prefix}_HOST": "127.0.0.1",
            f"{prefix}_CONSUMER_GROUP_SUFFIX": self.suffix,
            f"{prefix}_LOG_LEVEL": "WARNING",
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka_bootstrap,
            "CONVEYOR_ENVIRONMENT": "test",
            "CONVEYOR_JWT_SECRET": JWT_SECRET,
            "PYTHONUNBUFFERED": "1",
        }

    async def create(self) -> None:
        """Databases migrated, consumer groups at the end of their topics, every process ready."""
        async with connection(self.admin_dsn) as admin:
            for service in SERVICES:
                await admin.execute(f'CREATE DATABASE "{self.database(service)}"')
        for service in SERVICES:
            migrations = importlib.import_module(f"{service}.migrations").MIGRATIONS_PATH
            await upgrade_in_thread(migrations, self.dsn(service))
        groups: dict[str, list[str]] = {}
        for service in SERVICES:
            groups.update(self.groups(service))
        await start_groups_at_end(self.kafka_bootstrap, groups)
        for service in SERVICES:
            process = ServiceProcess(service, free_port(), self.service_env(service), self.log_dir / f"{service}.log")
            self.processes[service] = process
            process.start()
        await self.until_ready(SERVICES)

    async def until_ready(self, services: Iterable[str], within: float = READY_WITHIN) -> None:
        await asyncio.gather(*(self.processes[s].until_ready(self.http, within) for s in services))

    async def restart(self, service: str) -> None:
        """Start a killed or stopped service again (same port, database and groups)."""
        process = self.processes[service]
        await process.kill()
        process.start()
        await process.until_ready(self.http)

    @contextlib.asynccontextmanager
    async def replica(self, service: str) -> AsyncIterator[ServiceProcess]:
        """Another process of ``service`` on the same database and consumer groups, for the block."""
        index = len(self.replicas) + 1
        process = ServiceProcess(
            service, free_port(), self.service_env(service), self.log_dir / f"{service}-replica-{index}.log"
        )
        self.replicas.append(process)
        process.start()
        try:
            await process.until_ready(self.http)
            yield process
        finally:
            await process.stop()

    async def close(self) -> None:
        await asyncio.gather(*(p.stop() for p in [*self.processes.values(), *self.replicas]))
        await self.http.aclose()
        async with connection(self.admin_dsn) as admin:
            for service in SERVICES:
                await admin.execute(f'DROP DATABASE IF EXISTS "{self.database(service)}" WITH (FORCE)')

    def logs(self) -> str:
        """The last lines of every process's log, for a failure message."""
        return "\n".join(
            f"--- {p.log_path.name} ---\n{p.log_tail()}" for p in [*self.processes.values(), *self.replicas]
        )


def new_run_id() -> str:
    return uuid.uuid4().hex[:8]
