"""Bulk import beside people's work: what a tenant sees while another imports 100,000 companies.

    make bench-bulk                                   # 100,000 rows, tenant B at 20 commands/s
    uv run python bench/system/bulk.py --rows 20000   # a shorter run

The five services run as OS processes, as `make run` starts them (`stack.py`). Tenant B is seeded
as the system bench seeds its tenant and then works at ``--rate`` commands/s of the system mix
(creates, updates, moves that fire robots, reads). Meanwhile tenant A uploads a generated CSV of
``--rows`` companies through the public import API and runs it as a job. Figures
(bench/results/bulk.json, bench/README.md "bulk"):

- ``import_rows_per_s``: rows imported per second, from the upload to the job's end;
- ``bulk_visible_s``: from the job's end until the last of A's items is on the board (pipelines),
  in automation's copy on its stage and in reporting's projection;
- ``other_tenant_create_to_board_p99_ms``: B's new cards, from the create's answer to their
  placement event; ``other_tenant_move_to_robot_p99_ms``: B's moves to their robot's effect
  (both while the import runs or its events are being consumed);
- ``max_lag_events_<group>``: the most events each consumer group had waiting.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/_infra.py, bench_csv_import.py

import asyncpg
import structlog
from _infra import RESULTS, endpoints, report
from api import Api, new_client
from bench_csv_import import INDUSTRIES, csv_text
from items import Items
from lag import LagSampler
from mix import Mix
from openloop import Phase, drive
from seed import seed
from stack import Stack, running_stack
from summary import spread
from watch import PLACED, Watcher

TARGETS = {
    "import_rows_per_s": ">= 3,000",
    "bulk_visible_s": "<= 60",
    "other_tenant_create_to_board_p99_ms": "<= 1,000",
    "other_tenant_move_to_robot_p99_ms": "<= 1,000",
}
MAPPING = {"Название": "title", "ИНН": "inn", "Город": "city", "Телефон": "phone", "E-mail": "email",
           "Сфера деятельности": "industry", "Кол-во домов": "buildings"}  # fmt: skip


class PlacementWatcher(Watcher):
    """The system bench's watcher, also noting when each of B's items was placed."""

    def __init__(self, items: Items, tenant: str) -> None:
        super().__init__(items, tenant)
        self.placed_at: dict[str, float] = {}

    def apply(self, item_id: str, kind: str, version: int, value: bytes | None, at: float) -> None:
        if kind == PLACED:
            self.placed_at.setdefault(item_id, at)
        super().apply(item_id, kind, version, value, at)


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_BULK_ROWS", "100000")))
    parser.add_argument("--rate", type=float, default=20.0, help="tenant B's commands/s")
    parser.add_argument("--items", type=int, default=500, help="tenant B's seeded deals")
    parser.add_argument("--log-level", default="WARNING")
    return parser.parse_args()


async def company_type(api: Api) -> str:
    created = await api.ok(
        "entities", "POST", "/v1/entity-types", {"code": "company", "name": "Company", "settings": {}}
    )
    fields = [
        {"code": "inn", "label": "ИНН", "kind": "string", "validation": {"pattern": r"^(\d{10}|\d{12})$"}},
        {"code": "city", "label": "Город", "kind": "string"},
        {"code": "phone", "label": "Phone", "kind": "phone"},
        {"code": "email", "label": "E-mail", "kind": "email"},
        {"code": "industry", "label": "Industry", "kind": "list", "options": [{"label": i} for i in INDUSTRIES]},
        {"code": "buildings", "label": "Buildings", "kind": "integer"},
    ]
    for field in fields:
        await api.ok("entities", "POST", f"/v1/entity-types/{created['id']}/fields", field)
    type_id: str = created["id"]
    return type_id


async def import_companies(api: Api, rows: int) -> dict[str, Any]:
    """Upload, run and wait for the job; the figures and the instant it ended."""
    type_id = await company_type(api)
    data = csv_text(rows)
    started = time.monotonic()
    uploaded = await api.http.post(
        api.stack.url("entities") + "/v1/imports/files",
        data=data,
        headers={**api.headers("admin-1", ("admin",)), "Content-Type": "text/csv"},
    )
    assert uploaded.status == 201, await uploaded.text()
    file = await uploaded.json()
    request = {"file_id": file["id"], "entity_type_id": type_id, "mapping": MAPPING,
               "values": {"assignee_id": "manager-1"}}  # fmt: skip
    job = await api.ok("entities", "POST", "/v1/imports", request, headers={"Idempotency-Key": "bulk-bench"})
    while job["status"] == "running":
        await asyncio.sleep(0.2)
        job = await api.ok("entities", "GET", f"/v1/imports/{job['id']}")
    ended = time.monotonic()
    assert job["status"] == "completed", job
    print(f"import: {job['imported']:,} imported, {job['refused']:,} refused in {ended - started:.1f} s", flush=True)
    return {
        "rows": rows,
        "imported": job["imported"],
        "import_rows_per_s": round(job["processed"] / (ended - started), 1),
        "import_seconds": round(ended - started, 1),
        "_ended": ended,
    }


async def until_visible(stack: Stack, tenant: str, expected: int, within: float = 1800) -> float:
    """Seconds until A's items are all on the board, in automation's copy on a stage, and projected."""
    counts = {
        "pipelines": "SELECT count(*) FROM items WHERE tenant_id = $1 AND stage_id IS NOT NULL",
        "automation": "SELECT count(*) FROM automation_items WHERE tenant_id = $1 AND stage_id IS NOT NULL AND created",
        "reporting": "SELECT count(*) FROM projection.items WHERE tenant_id = $1",
    }
    connections = {name: await asyncpg.connect(stack.services[name].dsn) for name in counts}
    started = time.monotonic()
    try:
        waiting = set(counts)
        while waiting and time.monotonic() - started < within:
            for name in sorted(waiting):
                if await connections[name].fetchval(counts[name], tenant) >= expected:
                    waiting.discard(name)
                    print(f"  {name}: all {expected:,} after {time.monotonic() - started:.1f} s", flush=True)
            await asyncio.sleep(0.5)
        return time.monotonic() - started if not waiting else float("inf")
    finally:
        for conn in connections.values():
            await conn.close()


async def keep_working(mix: Mix, rate: float, done: asyncio.Event) -> list[Phase]:
    """Tenant B's mix in phases of 10 s until ``done``."""
    phases = []
    while not done.is_set():
        phase = Phase("during import", rate, 10)
        await drive(phase, rate * mix.requests_per_command, mix.fire)
        phases.append(phase)
    return phases


async def main() -> None:
    args = arguments()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.getLogger().setLevel(logging.WARNING)
    admin_dsn, kafka = endpoints()
    async with (
        running_stack(admin_dsn, kafka, RESULTS / "bulk" / "logs", args.log_level) as stack,
        new_client() as http,
    ):
        tenant_a, tenant_b = f"bulk-a-{uuid.uuid4().hex[:6]}", f"bulk-b-{uuid.uuid4().hex[:6]}"
        api_a, api_b = Api(stack, tenant_a, http), Api(stack, tenant_b, http)
        items = Items()
        watcher = PlacementWatcher(items, tenant_b)
        async with watcher.running(kafka), LagSampler(kafka, stack.groups, every_s=2.0).running() as lag:
            print(f"seeding tenant B with {args.items} deals ...", flush=True)
            tenant = await seed(api_b, args.items)
            for item in tenant.seeded:
                watcher.item_created(item)
            mix = Mix(api_b, tenant, watcher, read_ratio=0.5)
            lag.max_lag = dict.fromkeys(lag.max_lag, 0)
            robots_before, creates_before = len(items.robot_latencies_ms), len(mix.recent_creates)
            done = asyncio.Event()
            working = asyncio.create_task(keep_working(mix, args.rate, done))
            print(f"tenant A imports {args.rows:,} rows; tenant B works at {args.rate:g} commands/s", flush=True)
            figures = await import_companies(api_a, args.rows)
            visible_s = await until_visible(stack, tenant_a, figures["imported"])
            done.set()
            phases = await working
        robot_ms = items.robot_latencies_ms[robots_before:]
        board_ms = [
            (watcher.placed_at[item_id] - created) * 1000
            for item_id, created in mix.recent_creates[creates_before:]
            if item_id in watcher.placed_at
        ]
        api_ms = [latency for phase in phases for latency in phase.all_latencies()]
    figures.pop("_ended")
    figures["bulk_visible_s"] = round(visible_s, 1)
    figures["other_tenant_commands"] = sum(phase.commands_ok for phase in phases)
    figures["other_tenant_failed_requests"] = sum(phase.failures for phase in phases)
    figures |= spread("other_tenant_api", api_ms)
    figures |= spread("other_tenant_create_to_board", board_ms)
    figures |= spread("other_tenant_move_to_robot", robot_ms)
    figures["other_tenant_creates_not_placed"] = len(mix.recent_creates[creates_before:]) - len(board_ms)
    figures["lag_samples"] = lag.samples
    if lag.failures:
        print(f"kafka lag: {len(lag.failures)} samples failed, the last: {lag.failures[-1]}")
    else:  # a failed sampler's zeros would read as "no lag"
        figures |= {f"max_lag_events_{group.rsplit('.bench-', 1)[0]}": n for group, n in lag.max_lag.items()}
    report("bulk", figures, TARGETS)


if __name__ == "__main__":
    asyncio.run(main())
