"""`/health/ready` against real PostgreSQL and Kafka: 200 when both answer, else 503."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import asyncpg
import httpx
import pytest
from conveyor_kit.app import create_app
from conveyor_kit.database import pool_from, pool_on_state
from conveyor_kit.health import CheckResult
from conveyor_kit.problems import PROBLEM_MEDIA_TYPE
from fastapi import APIRouter, FastAPI, Request
from starlette.datastructures import State

pytestmark = pytest.mark.integration

Client = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


def json_routes() -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.get("/roundtrip")
    async def roundtrip(request: Request) -> Any:
        async with pool_from(request).acquire() as connection:
            return await connection.fetchval("select $1::jsonb", {"stage": "won", "n": [1, 2]})

    @router.get("/slow/{tag}")
    async def slow(request: Request, tag: str, between_statements: bool = False) -> Any:
        async with pool_from(request).acquire() as connection:
            await connection.execute(f"SET application_name = '{tag}'")
            if between_statements:
                await asyncio.sleep(2)
                return await connection.fetchval("select 1")
            return await connection.fetchval("select pg_sleep(10)")

    return router


@asynccontextmanager
async def running(app: FastAPI, client_for: Client) -> AsyncIterator[httpx.AsyncClient]:
    # ASGITransport does not run the lifespan; the app's hooks must open the pool first.
    async with app.router.lifespan_context(app), client_for(app) as client:
        yield client


@pytest.fixture
def service_app(make_settings: Callable[..., Any], infra: Any, fresh_database: str) -> Callable[..., FastAPI]:
    def make(**overrides: Any) -> FastAPI:
        ready_checks = overrides.pop("ready_checks", ())
        values = {"database_url": fresh_database, "kafka_bootstrap_servers": infra.kafka_bootstrap}
        return create_app(
            make_settings(**{**values, **overrides}),
            title="kit readiness test",
            version="0",
            routers=[json_routes()],
            lifespan_hooks=[pool_on_state],
            ready_checks=ready_checks,
        )

    return make


class TestReadiness:
    async def test_ready_when_the_database_and_kafka_answer(
        self, service_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        async with running(service_app(), client_for) as api:
            response = await api.get("/health/ready")

        body = response.json()
        assert response.status_code == 200, body
        assert body["checks"]["database"]["status"] == "up"
        assert body["checks"]["kafka"]["status"] == "up"

    async def test_not_ready_with_a_database_that_does_not_exist(
        self, service_app: Callable[..., FastAPI], client_for: Client, infra: Any
    ) -> None:
        missing = infra.postgres_dsn.rsplit("/", 1)[0] + "/no_such_database_for_readiness"

        async with running(service_app(database_url=missing), client_for) as api:
            live = await api.get("/health/live")
            response = await api.get("/health/ready")

        body = response.json()
        assert live.status_code == 200
        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert body["type"] == "https://conveyor.dev/problems/not-ready"
        assert body["checks"]["database"]["status"] == "down"
        assert body["checks"]["database"]["error"]
        assert body["checks"]["kafka"]["status"] == "up"

    async def test_not_ready_when_kafka_does_not_answer(
        self, service_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        app = service_app(kafka_bootstrap_servers="127.0.0.1:1", ready_check_timeout_seconds=1)

        async with running(app, client_for) as api:
            response = await api.get("/health/ready")

        assert response.status_code == 503
        assert response.json()["checks"]["kafka"]["status"] == "down"

    async def test_a_service_check_joins_the_report(
        self, service_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        async def check_projection_lag(state: State) -> CheckResult:
            return False, {"lag_seconds": 42}

        async with running(service_app(ready_checks=[check_projection_lag]), client_for) as api:
            response = await api.get("/health/ready")

        assert response.status_code == 503
        assert response.json()["checks"]["projection_lag"] == {
            "status": "down",
            "duration_ms": pytest.approx(0, abs=50),
            "lag_seconds": 42,
        }


class TestDatabasePool:
    async def test_jsonb_values_come_back_as_python_objects(
        self, service_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        async with running(service_app(), client_for) as api:
            response = await api.get("/v1/roundtrip")

        assert response.json() == {"stage": "won", "n": [1, 2]}


class TestDatabaseAway:
    """Found by tests/faults (PostgreSQL stopped under load): requests answered 500 while the database
    was away; they answer 503 problem+json with Retry-After, at once, and the pool recovers by itself."""

    async def test_a_database_that_refuses_connections_is_503_at_once(
        self, service_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        app = service_app(database_url="postgresql://conveyor@127.0.0.1:1/nowhere")

        async with running(app, client_for) as api:
            response = await api.get("/v1/roundtrip")

        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert response.headers["retry-after"] == "5"
        body = response.json()
        assert (body["status"], body["type"]) == (503, "https://conveyor.dev/problems/service-unavailable")
        assert body["instance"] == "/v1/roundtrip"

    @pytest.mark.parametrize("between_statements", [False, True], ids=["mid-statement", "between-statements"])
    async def test_a_connection_cut_is_503_and_the_next_request_works(
        self, service_app: Callable[..., FastAPI], client_for: Client, fresh_database: str, between_statements: bool
    ) -> None:
        tag = f"cut-{uuid.uuid4().hex[:8]}"
        async with running(service_app(), client_for) as api:
            params = {"between_statements": str(between_statements).lower()}
            request = asyncio.create_task(api.get(f"/v1/slow/{tag}", params=params))
            admin = await asyncpg.connect(fresh_database)
            try:
                while not await admin.fetchval(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1", tag
                ):
                    await asyncio.sleep(0.05)
            finally:
                await admin.close()
            response = await request
            after = await api.get("/v1/roundtrip")

        assert response.status_code == 503, response.text
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert after.status_code == 200
