"""Where benchmarks find PostgreSQL and Kafka: environment variables, else the local stack."""

from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def endpoints() -> tuple[str, str]:
    """(admin PostgreSQL DSN, Kafka bootstrap servers)."""
    dsn, kafka = os.environ.get("DATABASE_URL"), os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if dsn and kafka:
        return dsn, kafka
    local = json.loads((ROOT / ".local" / "infra.json").read_text())
    return local["postgres_dsn"], local["kafka_bootstrap"]


async def new_database(admin_dsn: str, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin_dsn.rsplit("/", 1)[0] + "/" + name


async def drop_database(admin_dsn: str, dsn: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{dsn.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await conn.close()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]


def report(name: str, figures: dict[str, Any], targets: dict[str, str] | None = None) -> None:
    """Print a table and save ``bench/results/<name>.json`` (a flat map of figure → number)."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    width = max(len(k) for k in figures)
    print(f"\n{name} ({time.strftime('%Y-%m-%d %H:%M:%S')})")
    print(f"{'figure'.ljust(width)}  {'value':>12}  target")
    for key, value in figures.items():
        shown = f"{value:,.1f}" if isinstance(value, float) else f"{value:,}"
        print(f"{key.ljust(width)}  {shown:>12}  {(targets or {}).get(key, '')}")
    (RESULTS / f"{name}.json").write_text(json.dumps(figures, indent=2) + "\n")
