"""Figures of a run: per phase (ramp steps, the steady run) and after it (timers, lag, resources)."""

from __future__ import annotations

import os
import re
from typing import Any

import asyncpg
from _infra import percentile
from openloop import Phase

TARGETS = {
    "achieved_commands_per_s": "≥ 1,500",
    "api_p99_ms": "≤ 50",
    "move_to_robot_effect_p99_ms": "≤ 1000",
    "commit_to_projection_p99_ms": "≤ 1000",
}


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def slug(endpoint: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", endpoint.lower()).strip("_")


def spread(prefix: str, values: list[float]) -> dict[str, float]:
    return {f"{prefix}_p{q}_ms": percentile(values, q) for q in (50, 95, 99)}


def phase_figures(phase: Phase) -> dict[str, Any]:
    figures: dict[str, Any] = {
        "offered_commands_per_s": phase.offered_commands_per_s,
        "achieved_commands_per_s": phase.achieved_commands_per_s,
        "requests": phase.requests,
        "failed_requests": phase.failures,
        "api_p50_ms": phase.p(50),
        "api_p95_ms": phase.p(95),
        "api_p99_ms": phase.p(99),
        "generator_start_lag_p99_ms": percentile(phase.start_lag_ms, 99),
        "requests_in_flight_max": phase.max_in_flight,
    }
    for endpoint in sorted(phase.latencies_ms):
        values = phase.latencies_ms[endpoint]
        figures[f"{slug(endpoint)}_count"] = len(values)
        figures |= spread(slug(endpoint), values)
    for (endpoint, status), n in sorted(phase.statuses.items()):
        if not 200 <= status < 300:
            figures[f"{slug(endpoint)}_status_{status}"] = n
    return figures


def sustainable(phase: Phase, robot_ms: list[float], projection_ms: list[float], p99_limit_ms: float) -> bool:
    """Kept up: the generator sent what was offered and ≥ 95 % of the commands succeeded, almost nothing
    failed, the API answered within the limit at p99, and the asynchronous paths (robots, projections)
    did not fall behind. (Not the achieved rate against the offered one: the mix draws commands at
    random, and the rate counts the stragglers' wait, each worth a few per cent on a short step.)"""
    return (
        phase.commands_ok >= 0.95 * phase.commands_answered
        and phase.not_sent == 0
        and phase.failures <= 0.01 * max(1, phase.requests)
        and phase.p(99) <= p99_limit_ms
        and percentile(robot_ms, 99) <= 5_000
        and (not projection_ms or percentile(projection_ms, 99) <= 5_000)
    )


async def timer_lag(automation_dsn: str) -> dict[str, float]:
    """How late the automation service's durable timers fired (the robots' at-once timers included)."""
    conn = await asyncpg.connect(automation_dsn)
    try:
        rows = await conn.fetch(
            "SELECT extract(epoch FROM fired_at - due_at) * 1000 AS lag FROM timers WHERE state = 'fired'"
        )
    finally:
        await conn.close()
    lags = [float(row["lag"]) for row in rows]
    return {
        "timers_fired": len(lags),
        "timer_lag_p50_ms": percentile(lags, 50),
        "timer_lag_p99_ms": percentile(lags, 99),
        "timer_lag_max_ms": max(lags, default=float("nan")),
    }
