"""The Conveyor half of the peers bench: automation's process engine through its own handlers, no HTTP.

A start is what ``POST /v1/processes`` does inside its transaction (``start_process``); a complete is
what ``POST /v1/tasks/{id}/complete`` does (``complete_task``, then ``continue_after_task``), each
on a connection of the service's kind of pool, with the service's event store. The process is
``conveyor.bpmn`` beside this file.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from automation.adapters import items
from automation.config import Settings
from automation.domain.process_start import StartRule
from automation.handlers.processes import continue_after_task, save_template, start_process
from automation.handlers.tasks import complete_task
from automation.migrations import MIGRATIONS_PATH
from conveyor_kit.database import Pool, create_pool
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_messaging.actor import Actor
from conveyor_messaging.eventstore import EventStore

BPMN = (Path(__file__).parent / "conveyor.bpmn").read_text()
TENANT = "peers"
USER = "user-1"
ITEMS = 1000


@dataclass
class Phase:
    """One timed phase: how many operations, over how long, and each one's latency."""

    operations: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this process's CPU time over the phase (Python runs on one core)
    latencies_ms: list[float] = field(default_factory=list)

    @property
    def per_s(self) -> float:
        return self.operations / self.seconds if self.seconds else 0.0


async def drive(
    op: Callable[[int], Awaitable[None]], clients: int, *, seconds: float, limit: int | None = None
) -> Phase:
    """``clients`` loops calling ``op(n)`` back to back until ``seconds`` pass or ``limit`` operations were made."""
    phase = Phase()
    counter = iter(range(limit if limit is not None else 1 << 62))
    began, cpu = time.perf_counter(), time.process_time()
    deadline = began + seconds

    async def client() -> None:
        while time.perf_counter() < deadline:
            n = next(counter, None)
            if n is None:
                return
            started = time.perf_counter()
            await op(n)
            phase.latencies_ms.append((time.perf_counter() - started) * 1000)
            phase.operations += 1

    await asyncio.gather(*(client() for _ in range(clients)))
    phase.seconds = time.perf_counter() - began
    phase.cpu_seconds = time.process_time() - cpu
    return phase


class Conveyor:
    """Automation's tables on a fresh database, one template, ``ITEMS`` items assigned to ``USER``."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.store = EventStore(source="/conveyor/automation")
        self.pool: Pool | None = None
        self.template_id = ""
        self.started: list[str] = []

    async def open(self, pool_size: int) -> None:
        await upgrade_in_thread(MIGRATIONS_PATH, self.dsn)
        # The service's own pool (its JSON codecs, its reset on release), one connection per client.
        self.pool = await create_pool(Settings(database_url=self.dsn), max_size=pool_size)
        now = datetime.now(UTC)
        async with self.pool.acquire() as conn, conn.transaction():
            template = await save_template(
                conn, self.store, tenant_id=TENANT, name="Approval", entity_type_id="deal", bpmn=BPMN,
                process_id=None, start=StartRule(), actor=Actor.user("admin-1"), now=now,
            )  # fmt: skip
            self.template_id = template.template_id
            for n in range(ITEMS):
                await items.save_created(
                    conn, TENANT, f"item-{n}", entity_type_id="deal", title=f"Deal {n}", assignee_id=USER,
                    observer_ids=[], standard={"amount": 5000}, fields={},
                )  # fmt: skip

    async def close(self) -> None:
        if self.pool is not None:
            await self.pool.close()

    async def start(self, n: int) -> None:
        assert self.pool is not None
        async with self.pool.acquire() as conn, conn.transaction():
            instance = await start_process(
                conn, self.store, tenant_id=TENANT, template_id=self.template_id, item_id=f"item-{n % ITEMS}",
                started_by=f"user:{USER}", now=datetime.now(UTC),
            )  # fmt: skip
        self.started.append(instance.instance_id)

    async def open_tasks_of_started(self) -> list[str]:
        """The inbox tasks of the instances started since the last call (found outside any timing)."""
        assert self.pool is not None
        sources = [f"process:{i}" for i in self.started]
        self.started = []
        rows = await self.pool.fetch(
            "SELECT task_id FROM tasks WHERE tenant_id = $1 AND source = ANY($2::text[]) AND status = 'open'",
            TENANT, sources,
        )  # fmt: skip
        return [row["task_id"] for row in rows]

    async def complete(self, task_id: str) -> None:
        assert self.pool is not None
        now = datetime.now(UTC)
        async with self.pool.acquire() as conn, conn.transaction():
            task = await complete_task(
                conn, self.store, tenant_id=TENANT, task_id=task_id, outcome="approve", values={}, user_id=USER,
                is_admin=False, now=now,
            )  # fmt: skip
            await continue_after_task(conn, self.store, TENANT, task, now)

    async def preload_open_tasks(self, count: int) -> None:
        """``count`` more open process tasks of the tenant, each of its own running instance, written in
        one statement as copies of one real instance: what piles up when people do not keep up."""
        assert self.pool is not None
        self.started = []
        await self.start(0)
        model = self.started[0]
        async with self.pool.acquire() as conn:
            await conn.execute(
                """WITH ids AS (SELECT n, gen_random_uuid()::text AS id FROM generate_series(1, $3) AS n),
                        instances AS (
                            INSERT INTO process_instances (tenant_id, instance_id, template_id, template_version,
                                                           item_id, status, state, started_at, updated_at)
                            SELECT p.tenant_id, ids.id, p.template_id, p.template_version, 'item-' || (ids.n % $4),
                                   p.status, p.state, p.started_at, p.updated_at
                              FROM ids, process_instances p WHERE p.tenant_id = $1 AND p.instance_id = $2)
                   INSERT INTO tasks (tenant_id, task_id, item_id, title, assignee_user_id, candidate_user_ids, form,
                                      outcomes, status, source, created_at, version)
                   SELECT t.tenant_id, ids.id || ':' || split_part(t.task_id, ':', 2), 'item-' || (ids.n % $4),
                          t.title, t.assignee_user_id, t.candidate_user_ids, t.form, t.outcomes, 'open',
                          'process:' || ids.id, t.created_at, 1
                     FROM ids, tasks t WHERE t.tenant_id = $1 AND t.source = 'process:' || $2""",
                TENANT, model, count, ITEMS,
            )  # fmt: skip
            await conn.execute("VACUUM ANALYZE tasks")
            await conn.execute("VACUUM ANALYZE process_instances")
            # Flush the load's writes now, not during the phase measured next (needs a superuser or
            # pg_checkpoint; without, the phase may pay for part of it).
            with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
                await conn.execute("CHECKPOINT")
        self.started = []

    async def open_task_count(self) -> int:
        assert self.pool is not None
        count: int = await self.pool.fetchval(
            "SELECT count(*) FROM tasks WHERE tenant_id = $1 AND status = 'open'", TENANT
        )
        return count
