"""Process engine speed beside a peer: Conveyor's automation and Operaton 1.0.3, one workload, one run.

The process is start → script task → exclusive gateway → user task → end (``conveyor.bpmn`` and
``operaton/src/main/resources/bench.bpmn``). Each engine gets its own database on the same
PostgreSQL. Operaton (the Apache-2.0 continuation of Camunda 7) runs embedded in a small Java
program (``operaton/``, built with Maven from Maven Central) with full history and no job executor;
Conveyor runs its automation handlers in this process without HTTP (``conveyor_half.py``). For 1 and
8 clients, each engine starts instances back to back for ``BENCH_SECONDS``, then completes their
user tasks; both warm up first (``BENCH_PEERS_WARMUP`` instances). The engines take turns (Operaton
at 1 client, Conveyor at 1, Operaton at 8, Conveyor at 8), so both see about the same load from the
rest of the machine. Then Conveyor's tenant gets 100,000 more open tasks (``BENCH_PEERS_PRELOAD``)
and is measured again at the largest number of clients: an operation's cost must not grow with the
open tasks.

    make bench-peers                                   # after `make infra-up`
    BENCH_SECONDS=20 uv run python bench/peers/bench_peers.py
    uv run python bench/peers/bench_peers.py --only conveyor   # e.g. under py-spy

Writes ``bench/results/peers.json``: every figure, and ``process_{start,complete}_ratio_to_operaton``,
Conveyor's rate over Operaton's at the number of clients where Conveyor fares worse.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/_infra.py

from _infra import drop_database, endpoints, new_database, percentile, report
from conveyor_half import Conveyor, Phase, drive

HERE = Path(__file__).resolve().parent
OPERATON = HERE / "operaton"
CLIENTS = [int(n) for n in os.environ.get("BENCH_PEERS_CLIENTS", "1,8").split(",")]
SECONDS = float(os.environ.get("BENCH_SECONDS", "10"))
WARMUP = int(os.environ.get("BENCH_PEERS_WARMUP", "1000"))
PRELOAD = int(os.environ.get("BENCH_PEERS_PRELOAD", "100000"))
FIGURES = ("starts_per_s", "start_p50_ms", "start_p99_ms", "completes_per_s", "complete_p50_ms", "complete_p99_ms")


def build_operaton() -> list[str]:
    """Compile the Java half and resolve its jars (offline first, as deploy/local does for Kafka)."""
    args = ["-B", "-q", "--no-transfer-progress", "-f", str(OPERATON / "pom.xml"), "package",
            "dependency:build-classpath", f"-Dmdep.outputFile={OPERATON / 'target' / 'classpath.txt'}"]  # fmt: skip
    if subprocess.run(["mvn", "-o", *args], capture_output=True).returncode != 0:
        subprocess.run(["mvn", *args], check=True)
    classpath = (OPERATON / "target" / "classpath.txt").read_text().strip()
    return ["java", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp",
            f"{OPERATON / 'target' / 'classes'}:{classpath}", "dev.conveyor.bench.OperatonBench"]  # fmt: skip


def run_operaton(command: list[str], dsn: str, clients: int) -> dict[str, Any]:
    url = urlsplit(dsn)
    env = {
        **os.environ,
        "BENCH_JDBC_URL": f"jdbc:postgresql://{url.hostname}:{url.port or 5432}{url.path}",
        "BENCH_JDBC_USER": url.username or "",
        "BENCH_JDBC_PASSWORD": url.password or "",
        "BENCH_CLIENTS": str(clients),
        "BENCH_SECONDS": str(SECONDS),
        "BENCH_WARMUP": str(WARMUP),
    }
    done = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
    measured: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return measured


def figures(starts: Phase, completes: Phase) -> dict[str, float]:
    return {
        "starts": starts.operations,
        "starts_per_s": starts.per_s,
        "start_p50_ms": percentile(starts.latencies_ms, 50),
        "start_p99_ms": percentile(starts.latencies_ms, 99),
        "completes": completes.operations,
        "completes_per_s": completes.per_s,
        "complete_p50_ms": percentile(completes.latencies_ms, 50),
        "complete_p99_ms": percentile(completes.latencies_ms, 99),
        "cpu_ms_per_start": 1000 * starts.cpu_seconds / max(1, starts.operations),
        "cpu_ms_per_complete": 1000 * completes.cpu_seconds / max(1, completes.operations),
    }


async def conveyor_round(
    conveyor: Conveyor, clients: int, seconds: float, limit: int | None = None
) -> dict[str, float]:
    starts = await drive(conveyor.start, clients, seconds=seconds, limit=limit)
    open_tasks = await conveyor.open_tasks_of_started()
    completes = await drive(lambda n: conveyor.complete(open_tasks[n]), clients, seconds=seconds, limit=len(open_tasks))
    return figures(starts, completes)


async def run_both(command: list[str], admin: str, only: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Each number of clients on Operaton (a JVM of its own, warmed up), then on Conveyor (warmed up
    once), so both see about the same load from the rest of the machine; then Conveyor's pile-up."""
    operaton: dict[str, Any] = {"clients": {}}
    conveyor: dict[str, Any] = {"clients": {}}
    dsn = await new_database(admin, "peers_conveyor")
    ours = Conveyor(dsn)
    try:
        if only != "operaton":
            await ours.open(max(CLIENTS))
            await conveyor_round(ours, max(CLIENTS), 3600, limit=WARMUP)
        for clients in CLIENTS:
            if only != "conveyor":
                theirs = await new_database(admin, "peers_operaton")
                try:
                    measured = run_operaton(command, theirs, clients)
                finally:
                    await drop_database(admin, theirs)
                operaton["clients"][str(clients)] = measured["clients"][str(clients)]
            if only != "operaton":
                conveyor["clients"][str(clients)] = await conveyor_round(ours, clients, SECONDS)
        if PRELOAD and only != "operaton":
            conveyor["open_tasks_before_preload"] = await ours.open_task_count()
            await ours.preload_open_tasks(PRELOAD)
            conveyor["open_tasks_after_preload"] = await ours.open_task_count()
            conveyor["after_preload"] = await conveyor_round(ours, max(CLIENTS), SECONDS)
    finally:
        await ours.close()
        await drop_database(admin, dsn)
    return conveyor, operaton


def flatten(name: str, measured: dict[str, Any]) -> dict[str, float]:
    flat: dict[str, float] = {}
    for clients, round_figures in measured.get("clients", {}).items():
        for key, value in round_figures.items():
            flat[f"{name}_{clients}_clients_{key}"] = value
    if "after_preload" in measured:
        flat[f"{name}_open_tasks_at_preload"] = measured["open_tasks_after_preload"]
        for key, value in measured["after_preload"].items():
            flat[f"{name}_{max(CLIENTS)}_clients_{key}_at_preload"] = value
    return flat


def ratios(conveyor: dict[str, Any], operaton: dict[str, Any]) -> dict[str, float]:
    found: dict[str, float] = {}
    for clients in map(str, CLIENTS):
        ours, theirs = conveyor["clients"][clients], operaton["clients"][clients]
        found[f"start_ratio_{clients}_clients"] = ours["starts_per_s"] / theirs["starts_per_s"]
        found[f"complete_ratio_{clients}_clients"] = ours["completes_per_s"] / theirs["completes_per_s"]
    found["process_start_ratio_to_operaton"] = min(v for k, v in found.items() if k.startswith("start_ratio"))
    found["process_complete_ratio_to_operaton"] = min(v for k, v in found.items() if k.startswith("complete_ratio"))
    return found


def flatness(conveyor: dict[str, Any]) -> dict[str, float]:
    """Conveyor's rates with the pile of open tasks over its rates without, at the largest number of clients."""
    if "after_preload" not in conveyor:
        return {}
    before, after = conveyor["clients"][str(max(CLIENTS))], conveyor["after_preload"]
    return {
        "conveyor_start_rate_at_preload_over_before": after["starts_per_s"] / before["starts_per_s"],
        "conveyor_complete_rate_at_preload_over_before": after["completes_per_s"] / before["completes_per_s"],
    }


def print_side_by_side(conveyor: dict[str, Any], operaton: dict[str, Any]) -> None:
    print(f"\n{'clients':>7}  {'engine':<9}" + "".join(f"{k:>17}" for k in FIGURES))
    for clients in map(str, CLIENTS):
        for name, measured in (("operaton", operaton), ("conveyor", conveyor)):
            row = measured["clients"][clients]
            print(f"{clients:>7}  {name:<9}" + "".join(f"{row[k]:>17,.1f}" for k in FIGURES))
    if "after_preload" in conveyor:
        row = conveyor["after_preload"]
        label = f"conveyor, {conveyor['open_tasks_after_preload']:,} open tasks"
        print(f"{max(CLIENTS):>7}  {label}\n{'':18}" + "".join(f"{row[k]:>17,.1f}" for k in FIGURES))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--only", choices=["conveyor", "operaton"], help="run one engine (no ratios, no JSON)")
    only = parser.parse_args().only
    admin, _ = endpoints()
    load_before = os.getloadavg()[0]
    command = build_operaton() if only != "conveyor" else []
    conveyor, operaton = await run_both(command, admin, only)
    if only:
        print(json.dumps(conveyor if only == "conveyor" else operaton, indent=2))
        return
    print_side_by_side(conveyor, operaton)
    found = {
        **ratios(conveyor, operaton),
        **flatten("operaton", operaton),
        **flatten("conveyor", conveyor),
        **flatness(conveyor),
        "seconds_per_phase": SECONDS,
        # Both engines share the machine with whatever else runs: the 1-minute load average around the run.
        "load_average_at_start": load_before,
        "load_average_at_end": os.getloadavg()[0],
    }
    report("peers", found, {"process_start_ratio_to_operaton": "≥ 1.5", "process_complete_ratio_to_operaton": "≥ 1.5"})


if __name__ == "__main__":
    asyncio.run(main())
