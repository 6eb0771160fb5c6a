"""The five services as real OS processes, the way `make run` starts them, on fresh bench databases.

Each service gets a database of its own (created and migrated here, dropped afterwards), consumer
groups of its own (a suffix, committed at the end of their topics so an earlier run's events are
not replayed into the fresh database) and a free port; then `python -m <service> serve` runs it
with one uvicorn worker, its outbox relay and its consumers inside, exactly as in production.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import socket
import sys
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from _infra import drop_database, new_database
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_testing.kafka import start_groups_at_end

SERVICES = ("entities", "pipelines", "automation", "notifications", "reporting")
SECRET = "bench-system-secret-long-enough-for-hs256"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def consumer_groups(service: str, suffix: str) -> dict[str, list[str]]:
    """Every consumer group the service runs (its routing table and batch consumers), by topics."""
    routing = importlib.import_module(f"{service}.routing")
    groups = {f"{service}.{s.name}{suffix}": list(s.topics) for s in routing.SUBSCRIPTIONS}
    for name, topics in getattr(routing, "BATCH_CONSUMERS", {}).items():
        groups[f"{service}.{name}{suffix}"] = list(topics)
    return groups


@dataclass
class Service:
    """One running service: its process, address, database and consumer groups."""

    name: str
    dsn: str
    port: int
    groups: dict[str, list[str]]
    log_path: Path
    process: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
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


def _environment(service: Service, kafka: str, suffix: str, log_level: str) -> dict[str, str]:
    prefix = service.name.upper()
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "CONVEYOR_ENVIRONMENT": "development",
        "CONVEYOR_JWT_SECRET": SECRET,
        f"{prefix}_DATABASE_URL": service.dsn,
        f"{prefix}_HOST": "127.0.0.1",
        f"{prefix}_PORT": str(service.port),
        f"{prefix}_CONSUMER_GROUP_SUFFIX": suffix,
        f"{prefix}_LOG_LEVEL": log_level,
    }


async def _until_ready(http: httpx.AsyncClient, service: Service, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert service.process is not None
        if service.process.returncode is not None:
            raise RuntimeError(f"{service.name} exited ({service.process.returncode}); see {service.log_path}")
        with contextlib.suppress(httpx.TransportError):
            if (await http.get(service.url + "/health/ready")).status_code == 200:
                return
        await asyncio.sleep(0.2)
    raise TimeoutError(f"{service.name} never became ready; see {service.log_path}")


async def _stop(service: Service) -> None:
    if service.process is None or service.process.returncode is not None:
        return
    service.process.terminate()  # SIGTERM: uvicorn finishes requests, the lifespan closes pools
    try:
        await asyncio.wait_for(service.process.wait(), 20)
    except TimeoutError:
        service.process.kill()
        await service.process.wait()


@contextlib.asynccontextmanager
async def running_stack(admin_dsn: str, kafka: str, logs: Path, log_level: str) -> AsyncIterator[Stack]:
    """Databases created and migrated, groups at the end of their topics, five processes ready."""
    suffix = f".bench-{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(logs.mkdir, parents=True, exist_ok=True)
    stack = Stack()
    try:
        for name in SERVICES:
            dsn = await new_database(admin_dsn, f"bench_system_{name}")
            stack.services[name] = Service(
                name=name,
                dsn=dsn,
                port=free_port(),
                groups=consumer_groups(name, suffix),
                log_path=logs / f"{name}.log",
            )
            await upgrade_in_thread(importlib.import_module(f"{name}.migrations").MIGRATIONS_PATH, dsn)
        await start_groups_at_end(kafka, stack.groups)
        for service in stack.services.values():
            log = await asyncio.to_thread(service.log_path.open, "wb")
            with log:
                service.process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", service.name, "serve",
                    env=_environment(service, kafka, suffix, log_level), stdout=log, stderr=asyncio.subprocess.STDOUT,
                )  # fmt: skip
        async with httpx.AsyncClient(timeout=5) as http:
            await asyncio.gather(*(_until_ready(http, s) for s in stack.services.values()))
        yield stack
    finally:
        await asyncio.gather(*(_stop(service) for service in stack.services.values()))
        for service in stack.services.values():
            with contextlib.suppress(Exception):
                await drop_database(admin_dsn, service.dsn)
