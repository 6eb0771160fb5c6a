"""The five services as real OS processes, the way `make run` starts them, on fresh bench databases.

Each service gets a database of its own (created and migrated here, dropped afterwards), consumer
groups of its own (a suffix, committed at the end of their topics so an earlier run's events are
not replayed into the fresh database) and a free port; then `python -m <service> serve` runs it
(`conveyor_testing.services.ServiceProcess`) with one uvicorn worker, its outbox relay and its
consumers inside, exactly as in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from _infra import drop_database, new_database
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_testing.kafka import start_groups_at_end
from conveyor_testing.services import SERVICES, ServiceProcess, consumer_groups, free_port

SECRET = "bench-system-secret-long-enough-for-hs256"


@dataclass
class Service:
    """One running service: its process, database and consumer groups."""

    name: str
    dsn: str
    groups: dict[str, list[str]]
    process: ServiceProcess

    @property
    def url(self) -> str:
        return self.process.base_url

    @property
    def pid(self) -> int:
        return self.process.pid


@dataclass
class Stack:
    """The five services of one bench run."""

    services: dict[str, Service] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return self.services[name].url

    @property
    def groups(self) -> dict[str, list[str]]:
        return {g: t for s in self.services.values() for g, t in s.groups.items()}


def _environment(name: str, dsn: str, kafka: str, suffix: str, log_level: str) -> dict[str, str]:
    prefix = name.upper()
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "CONVEYOR_ENVIRONMENT": "development",
        "CONVEYOR_JWT_SECRET": SECRET,
        f"{prefix}_DATABASE_URL": dsn,
        f"{prefix}_HOST": "127.0.0.1",
        f"{prefix}_CONSUMER_GROUP_SUFFIX": suffix,
        f"{prefix}_LOG_LEVEL": log_level,
    }


@contextlib.asynccontextmanager
async def running_stack(admin_dsn: str, kafka: str, logs: Path, log_level: str) -> AsyncIterator[Stack]:
    """Databases created and migrated, groups at the end of their topics, five processes ready."""
    suffix = f".bench-{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(logs.mkdir, parents=True, exist_ok=True)
    stack = Stack()
    try:
        for name in SERVICES:
            dsn = await new_database(admin_dsn, f"bench_system_{name}")
            process = ServiceProcess(
                name, free_port(), _environment(name, dsn, kafka, suffix, log_level), logs / f"{name}.log"
            )
            stack.services[name] = Service(name=name, dsn=dsn, groups=consumer_groups(name, suffix), process=process)
            await upgrade_in_thread(importlib.import_module(f"{name}.migrations").MIGRATIONS_PATH, dsn)
        await start_groups_at_end(kafka, stack.groups)
        for service in stack.services.values():
            service.process.start()
        async with httpx.AsyncClient(timeout=5) as http:
            await asyncio.gather(*(s.process.until_ready(http) for s in stack.services.values()))
        yield stack
    finally:
        await asyncio.gather(*(service.process.stop(within=20) for service in stack.services.values()))
        for service in stack.services.values():
            with contextlib.suppress(Exception):
                await drop_database(admin_dsn, service.dsn)
