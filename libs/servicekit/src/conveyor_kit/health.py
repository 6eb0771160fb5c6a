"""Liveness and readiness endpoints; readiness asks each dependency, with a short timeout."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from aiokafka import AIOKafkaClient
from conveyor_messaging.kafka import KafkaSecurity
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.datastructures import State

from conveyor_kit.logging import get_logger
from conveyor_kit.problems import Problem, public_path

CheckResult = tuple[bool, dict[str, Any]]
# A readiness check gets the app's state (pool, settings, …) and says whether it is fine.
# Its name in the report is the function's name without a `check_` prefix.
ReadyCheck = Callable[[State], Awaitable[CheckResult]]

log = get_logger(__name__)


async def check_database(state: State) -> CheckResult:
    """The service's database answers `select 1`."""
    pool = getattr(state, "pool", None)
    if pool is None:
        return False, {"error": "no database pool (bootstrap has not opened one)"}
    async with pool.acquire() as connection:
        await connection.fetchval("select 1")
    return True, {}


async def check_kafka(state: State) -> CheckResult:
    """A Kafka broker answers a metadata request."""
    timeout_ms = int(state.settings.ready_check_timeout_seconds * 1000)
    client = AIOKafkaClient(
        bootstrap_servers=state.settings.kafka_bootstrap_servers,
        request_timeout_ms=timeout_ms,
        client_id=f"{state.settings.service_name}-readiness",
        **KafkaSecurity.from_env().client_options(),
    )
    try:
        await client.bootstrap()
        return True, {"brokers": len(client.cluster.brokers())}
    finally:
        await client.close()


DEFAULT_CHECKS: tuple[ReadyCheck, ...] = (check_database, check_kafka)


def check_name(check: ReadyCheck) -> str:
    return getattr(check, "__name__", "check").removeprefix("check_")


async def _run(check: ReadyCheck, state: State, limit: float) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        async with asyncio.timeout(limit):
            ok, details = await check(state)
    except TimeoutError:
        ok, details = False, {"error": f"no answer within {limit:g}s"}
    except Exception as exc:  # a failing dependency is a report, not a crash
        ok, details = False, {"error": f"{type(exc).__name__}: {exc}"[:300]}
    elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
    return {"status": "up" if ok else "down", "duration_ms": elapsed_ms, **details}


def health_router(checks: Sequence[ReadyCheck]) -> APIRouter:
    """`/health/live` and `/health/ready` over the given checks, run concurrently. They are for the
    orchestrator's probes, not for API clients: left out of the OpenAPI document (docs/operations.md
    describes them), and the public origin does not route them."""
    router = APIRouter(prefix="/health", tags=["health"])

    @router.get("/live", include_in_schema=False)
    async def live() -> dict[str, str]:
        return {"status": "live"}

    @router.get("/ready", response_model=None, include_in_schema=False)
    async def ready(request: Request) -> JSONResponse:
        state = request.app.state
        timeout = state.settings.ready_check_timeout_seconds
        results = await asyncio.gather(*(_run(check, state, timeout) for check in checks))
        report = {check_name(c): r for c, r in zip(checks, results, strict=True)}
        if all(result["status"] == "up" for result in report.values()):
            return JSONResponse({"status": "ready", "checks": report})
        log.warning("not_ready", checks=report)
        problem = Problem(503, "Not ready", "a dependency is unavailable", slug="not-ready", checks=report)
        return problem.response(public_path(request.scope))

    return router
