"""The floor under the system benchmark: what the least possible command costs on this machine.

    uv run python bench/system/floor.py                  # 20 s per HTTP endpoint, 200,000 consumed events
    uv run python bench/system/floor.py --seconds 10 --events 50000

`run.py` measures Conveyor; this measures the same stack with Conveyor taken out, to tell how much
of a command's cost any design on Python, FastAPI, asyncpg and aiokafka must pay:

- **HTTP**: a bare FastAPI app (`floor_app.py`, one uvicorn worker as our services run) answers
  ``POST /noop`` (token check, body validation, JSON answer) and ``POST /append`` (the same plus one
  PostgreSQL transaction inserting the command's event). It is driven by the system benchmark's own
  client (httpx, closed loop, ``--concurrency`` requests at once) until the server is saturated.
- **Consumer hop**: ``--events`` events on a Kafka topic are read by one aiokafka consumer in batches
  (up to 500 records) and each batch is applied in one PostgreSQL transaction that marks its event
  ids processed, then the offsets are committed: the cheapest idempotent consumer there is.

CPU comes from the processes' own counters (psutil: user + system time), so it is a cost per request
or per event that other work on the machine changes little. The figures go to
``bench/results/system_floor.json``; ``ceiling_*`` turn them into the most commands per second two
cores could carry if a command were nothing but that floor.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/_infra.py

import aiohttp
import asyncpg
import httpx
import jwt
import psutil
from _infra import drop_database, endpoints, new_database, percentile, report
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from conveyor_testing.services import free_port
from floor_app import SECRET
from resources import local_pids

HERE = Path(__file__).resolve().parent
CORES = 2  # the machine the targets are set for (bench/README.md, "system")
TARGET_COMMANDS_PER_S = 1500


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=20.0, help="measured time per HTTP endpoint")
    parser.add_argument("--concurrency", type=int, default=16, help="requests in flight at once")
    parser.add_argument("--events", type=int, default=200_000, help="events the consumer hop reads")
    return parser.parse_args()


def cpu_seconds(pid: int, *, with_children: bool = False) -> float:
    """User + system CPU time of a process (and of its children: PostgreSQL's backends)."""
    root = psutil.Process(pid)
    total = 0.0
    for process in [root, *root.children(recursive=True)] if with_children else [root]:
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


class CpuMeter:
    """CPU seconds of named processes between ``start`` and ``stop``."""

    def __init__(self, pids: dict[str, int], trees: set[str]) -> None:
        self.pids, self.trees = pids, trees
        self.before: dict[str, float] = {}
        self.used: dict[str, float] = {}

    def _now(self) -> dict[str, float]:
        return {name: cpu_seconds(pid, with_children=name in self.trees) for name, pid in self.pids.items()}

    def start(self) -> None:
        self.before = self._now()

    def stop(self) -> dict[str, float]:
        after = self._now()
        self.used = {name: after[name] - self.before[name] for name in self.pids}
        return self.used


async def serve_floor_app(dsn: str) -> tuple[asyncio.subprocess.Process, str]:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "floor_app:app", "--port", str(port), "--log-level", "warning"]
    command += ["--no-access-log", "--loop", "uvloop", "--http", "httptools"]
    process = await asyncio.create_subprocess_exec(*command, cwd=HERE, env={**os.environ, "FLOOR_DSN": dsn})
    url = f"http://127.0.0.1:{port}"
    async with httpx.AsyncClient() as http:
        for _ in range(200):
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(url + "/openapi.json")).status_code == 200:
                    return process, url
            await asyncio.sleep(0.1)
    process.kill()
    await process.wait()
    raise RuntimeError("the floor app did not start")


Send = Callable[[str, dict[str, Any], dict[str, str]], Awaitable[int]]


@contextlib.asynccontextmanager
async def client(kind: str, connections: int) -> AsyncIterator[Send]:
    """A ``send(url, body, headers) -> status`` over aiohttp (the generator's client) or httpx."""
    if kind == "httpx":
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=connections)) as http:

            async def send_httpx(url: str, body: dict[str, Any], headers: dict[str, str]) -> int:
                return (await http.post(url, json=body, headers=headers)).status_code

            yield send_httpx
        return
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections)) as session:

        async def send_aiohttp(url: str, body: dict[str, Any], headers: dict[str, str]) -> int:
            async with session.post(url, json=body, headers=headers) as answer:
                await answer.read()
                return answer.status

        yield send_aiohttp


async def closed_loop(send: Send, url: str, seconds: float, concurrency: int) -> list[float]:
    """``concurrency`` workers send requests back to back for ``seconds``; returns each latency (ms)."""
    token = jwt.encode({"tenant": "floor", "sub": "bench", "exp": int(time.time()) + 3600}, SECRET, algorithm="HS256")
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        while (started := time.perf_counter()) < deadline:
            body = {"item_id": str(uuid.uuid4()), "fields": {"note": "floor", "amount": 1200}}
            status = await send(url, body, headers)
            if status != 201:
                raise RuntimeError(f"{url}: {status}")
            latencies.append(1000 * (time.perf_counter() - started))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies


async def http_floor(dsn: str, pids: dict[str, int], seconds: float, concurrency: int) -> dict[str, float]:
    """Each endpoint with the generator's client; ``noop`` also with httpx, to show what the client costs."""
    process, base = await serve_floor_app(dsn)
    figures: dict[str, float] = {}
    runs = (("noop", "aiohttp", "noop"), ("append", "aiohttp", "append"), ("noop_httpx", "httpx", "noop"))
    try:
        meter = CpuMeter({"server": process.pid, "client": os.getpid(), "postgres": pids["postgres"]}, {"postgres"})
        for name, kind, endpoint in runs:
            async with client(kind, concurrency * 2) as send:
                await closed_loop(send, f"{base}/{endpoint}", 2.0, concurrency)  # warm up
                meter.start()
                wall = time.perf_counter()
                latencies = await closed_loop(send, f"{base}/{endpoint}", seconds, concurrency)
                wall = time.perf_counter() - wall
                used = meter.stop()
            figures[f"{name}_requests_per_s"] = len(latencies) / wall
            figures[f"{name}_p50_ms"] = percentile(latencies, 50)
            figures[f"{name}_p99_ms"] = percentile(latencies, 99)
            for process_name, cpu in used.items():
                figures[f"{name}_cpu_{process_name}_us_per_request"] = 1e6 * cpu / len(latencies)
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 10)
    return figures


async def consumer_floor(dsn: str, kafka: str, pids: dict[str, int], events: int) -> dict[str, float]:
    topic, group = f"bench.floor.{uuid.uuid4().hex[:8]}", f"bench-floor-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
        producer = AIOKafkaProducer(bootstrap_servers=kafka, linger_ms=5, max_batch_size=256 * 1024)
        await producer.start()
        try:
            payload = b'{"type": "item.updated", "data": {"fields": {"note": "floor", "amount": 1200}}}'
            sends = [
                await producer.send(topic, payload, key=str(i % 1000).encode(), headers=[("ce_id", uuid.uuid4().bytes)])
                for i in range(events)
            ]
            await asyncio.gather(*sends)
        finally:
            await producer.stop()

        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
        consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=kafka, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
        )
        meter = CpuMeter({"consumer": os.getpid(), "postgres": pids["postgres"], "kafka": pids["kafka"]}, {"postgres"})
        await consumer.start()
        try:
            meter.start()
            wall, seen, batches = time.perf_counter(), 0, 0
            while seen < events:
                fetched = await consumer.getmany(timeout_ms=100, max_records=500)
                records = [record for partition in fetched.values() for record in partition]
                if not records:
                    continue
                ids = [uuid.UUID(bytes=dict(record.headers)["ce_id"]) for record in records]
                async with pool.acquire() as conn, conn.transaction():
                    await conn.execute(
                        "INSERT INTO floor_processed (event_id) SELECT unnest($1::uuid[]) ON CONFLICT DO NOTHING", ids
                    )
                await consumer.commit()
                seen, batches = seen + len(records), batches + 1
            wall = time.perf_counter() - wall
            used = meter.stop()
        finally:
            await consumer.stop()
            await pool.close()
        await admin.delete_topics([topic])
    finally:
        await admin.close()
    figures = {"hop_events_per_s": events / wall, "hop_events_per_batch": events / batches}
    for name, cpu in used.items():
        figures[f"hop_cpu_{name}_us_per_event"] = 1e6 * cpu / events
    return figures


def ceilings(figures: dict[str, float], hops: int = 10) -> dict[str, float]:
    """Commands per second two cores could carry if a command cost only the floor.

    A command of the system benchmark is one HTTP request that appends an event, half a read beside
    it (``noop`` stands in for the read: a read costs at least that), and the consumer hops its
    events make: a move is read by five consumer groups, its robot's timer fires, entities carries
    out the robot's command and that event is read by five groups again."""
    per_append = sum(figures[f"append_cpu_{n}_us_per_request"] for n in ("server", "client", "postgres")) / 1000
    per_read = sum(figures[f"noop_cpu_{n}_us_per_request"] for n in ("server", "client")) / 1000
    per_hop = sum(figures[f"hop_cpu_{n}_us_per_event"] for n in ("consumer", "postgres", "kafka")) / 1000
    http_only = per_append + 0.5 * per_read
    whole = http_only + hops * per_hop
    return {
        "floor_us_per_command_http_only": 1000 * http_only,
        "floor_us_per_consumer_hop": 1000 * per_hop,
        "consumer_hops_per_command": hops,
        "floor_us_per_command": 1000 * whole,
        "ceiling_commands_per_s_http_only": CORES * 1000 / http_only,
        "ceiling_commands_per_s": CORES * 1000 / whole,
    }


async def main() -> None:
    args = arguments()
    admin_dsn, kafka = endpoints()
    pids = local_pids()
    if "postgres" not in pids or "kafka" not in pids:
        raise SystemExit("the floor needs the local PostgreSQL and Kafka (make infra-up): it reads their CPU")
    dsn = await new_database(admin_dsn, "bench_floor")
    try:
        conn = await asyncpg.connect(dsn)
        await conn.execute(
            "CREATE TABLE floor_events (position bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, tenant text NOT NULL,"
            " stream_id uuid NOT NULL, payload jsonb NOT NULL, recorded_at timestamptz NOT NULL DEFAULT now());"
            "CREATE TABLE floor_processed (event_id uuid PRIMARY KEY)"
        )
        await conn.close()
        figures = await http_floor(dsn, pids, args.seconds, args.concurrency)
        figures |= await consumer_floor(dsn, kafka, pids, args.events)
    finally:
        await drop_database(admin_dsn, dsn)
    figures |= ceilings(figures)
    figures["load_average_end"] = os.getloadavg()[0]
    report("system_floor", figures, {"ceiling_commands_per_s": f"target {TARGET_COMMANDS_PER_S:,}"})


if __name__ == "__main__":
    asyncio.run(main())
