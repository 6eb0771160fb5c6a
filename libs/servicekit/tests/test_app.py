"""What create_app gives every service: test clock, body limit, correlation ids, metrics, CORS."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime

import httpx
import pytest
from conveyor_kit.clock import ControllableClock
from conveyor_kit.logging import configure_logging
from conveyor_kit.middleware import CORRELATION_HEADER
from conveyor_kit.problems import PROBLEM_MEDIA_TYPE
from fastapi import APIRouter, FastAPI, Request

pytestmark = pytest.mark.unit

Client = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


def echo_routes() -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.post("/echo/{kind}")
    async def echo(kind: str, request: Request) -> dict[str, int | str]:
        body = await request.body()
        return {"kind": kind, "bytes": len(body), "correlation_id": request.state.correlation_id}

    return router


class TestTestClock:
    async def test_the_clock_router_is_absent_unless_enabled(
        self, make_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        async with client_for(make_app()) as api:
            assert (await api.get("/v1/test/clock")).status_code == 404
            assert (await api.post("/v1/test/clock", json={"advance_seconds": 5})).status_code in (
                404,
                405,
            )

    async def test_an_enabled_clock_can_be_set_and_advanced(
        self, make_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        app = make_app(test_clock_enabled=True)
        async with client_for(app) as api:
            set_to = await api.post("/v1/test/clock", json={"set_to": "2026-01-01T00:00:00Z"})
            advanced = await api.post("/v1/test/clock", json={"advance_seconds": 90})
            read = await api.get("/v1/test/clock")

        assert set_to.json() == {"now": "2026-01-01T00:00:00Z", "shared": False}
        assert advanced.json() == {"now": "2026-01-01T00:01:30Z", "shared": False}
        assert read.json() == advanced.json()
        assert app.state.clock.now() == datetime(2026, 1, 1, 0, 1, 30, tzinfo=UTC)

    async def test_the_clock_refuses_to_move_backwards(
        self, make_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        async with client_for(make_app(test_clock_enabled=True)) as api:
            response = await api.post("/v1/test/clock", json={"advance_seconds": -1})

        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "/body/advance_seconds"

    def test_a_controllable_clock_is_utc_and_moves_forward_only(self) -> None:
        clock = ControllableClock(datetime(2026, 5, 1, 12, 0))

        clock.advance(30)

        assert clock.now() == datetime(2026, 5, 1, 12, 0, 30, tzinfo=UTC)
        with pytest.raises(ValueError):
            clock.advance(-1)


class TestBodySizeLimit:
    async def test_a_declared_oversize_body_is_413(self, make_app: Callable[..., FastAPI], client_for: Client) -> None:
        async with client_for(make_app(routers=[echo_routes()], max_body_bytes=64)) as api:
            response = await api.post("/v1/echo/big", content=b"x" * 65)

        assert response.status_code == 413
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert response.json()["type"] == "https://conveyor.dev/problems/content-too-large"

    async def test_a_streamed_oversize_body_is_413(self, make_app: Callable[..., FastAPI], client_for: Client) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(4):
                yield b"x" * 32

        async with client_for(make_app(routers=[echo_routes()], max_body_bytes=64)) as api:
            response = await api.post("/v1/echo/streamed", content=chunks())

        assert response.status_code == 413
        assert response.json()["limit_bytes"] == 64

    async def test_a_large_body_path_has_its_own_limit_declared_or_streamed(
        self, make_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        async def chunks(count: int) -> AsyncIterator[bytes]:
            for _ in range(count):
                yield b"x" * 32

        app = make_app(routers=[echo_routes()], max_body_bytes=64, large_body_paths={"/v1/echo/upload": 256})
        async with client_for(app) as api:
            within = await api.post("/v1/echo/upload", content=b"x" * 256)
            declared = await api.post("/v1/echo/upload", content=b"x" * 257)
            streamed = await api.post("/v1/echo/upload", content=chunks(9))
            elsewhere = await api.post("/v1/echo/other", content=b"x" * 65)

        assert within.status_code == 200 and within.json()["bytes"] == 256
        assert declared.status_code == 413 and declared.json()["limit_bytes"] == 256
        assert streamed.status_code == 413 and streamed.json()["limit_bytes"] == 256
        assert elsewhere.status_code == 413 and elsewhere.json()["limit_bytes"] == 64

    async def test_a_body_within_the_limit_passes(self, make_app: Callable[..., FastAPI], client_for: Client) -> None:
        async with client_for(make_app(routers=[echo_routes()], max_body_bytes=64)) as api:
            response = await api.post("/v1/echo/small", content=b"x" * 64)

        assert response.status_code == 200
        assert response.json()["bytes"] == 64


class TestCorrelationIds:
    async def test_a_given_correlation_id_is_echoed_and_visible_to_handlers(
        self, make_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        async with client_for(make_app(routers=[echo_routes()])) as api:
            response = await api.post("/v1/echo/a", headers={CORRELATION_HEADER: "corr-123"})

        assert response.headers[CORRELATION_HEADER] == "corr-123"
        assert response.json()["correlation_id"] == "corr-123"
        assert response.headers["x-request-id"]

    async def test_a_missing_correlation_id_is_generated(
        self, make_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        async with client_for(make_app()) as api:
            first = await api.get("/health/live")
            second = await api.get("/health/live")

        assert first.headers[CORRELATION_HEADER] != second.headers[CORRELATION_HEADER]

    async def test_an_unsafe_correlation_id_is_replaced(
        self, make_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        async with client_for(make_app()) as api:
            response = await api.get("/health/live", headers={CORRELATION_HEADER: "a\tb{}"})

        assert response.headers[CORRELATION_HEADER] != "a\tb{}"

    async def test_log_lines_carry_the_correlation_id_and_no_credentials(
        self,
        make_app: Callable[..., FastAPI],
        client_for: Client,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        configure_logging("INFO", json=True, force=True)
        try:
            async with client_for(make_app()) as api:
                await api.get(
                    "/v1/whoami",
                    headers={CORRELATION_HEADER: "corr-log-1", "Authorization": "Bearer s3cr3t"},
                )
            lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
        finally:
            logging.getLogger().handlers.clear()

        finished = [line for line in lines if line["event"] == "request_finished"]
        assert finished and finished[-1]["correlation_id"] == "corr-log-1"
        assert not any("s3cr3t" in json.dumps(line) for line in lines)


class TestOperationalEndpoints:
    async def test_liveness_answers_without_dependencies(
        self, make_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        async with client_for(make_app()) as api:
            response = await api.get("/health/live")

        assert response.status_code == 200

    async def test_the_openapi_page_knows_the_prefix_an_ingress_serves_it_under(
        self, make_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        async with client_for(make_app(root_path="/entities")) as api:
            page = await api.get("/v1/docs")

        assert page.status_code == 200
        assert "/entities/v1/openapi.json" in page.text

    async def test_the_openapi_page_loads_swagger_ui_from_the_service_not_a_cdn(
        self, make_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        async with client_for(make_app(root_path="/entities")) as api:
            page = await api.get("/v1/docs")
            script = await api.get("/v1/docs/assets/swagger-ui-bundle.js")
            style = await api.get("/v1/docs/assets/swagger-ui.css")

        assert "cdn" not in page.text.lower() and "https://" not in page.text.split("<body>")[0]
        assert "/entities/v1/docs/assets/swagger-ui-bundle.js" in page.text
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert style.status_code == 200 and len(script.content) > 100_000

    async def test_the_reference_page_loads_redoc_from_the_service_not_a_cdn(
        self, make_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        async with client_for(make_app(root_path="/entities")) as api:
            page = await api.get("/v1/redoc")
            script = await api.get("/v1/docs/assets/redoc.standalone.js")

        assert page.status_code == 200 and "https://" not in page.text
        assert "/entities/v1/docs/assets/redoc.standalone.js" in page.text
        assert 'spec-url="/entities/v1/openapi.json"' in page.text
        assert script.status_code == 200 and "javascript" in script.headers["content-type"]
        assert len(script.content) > 100_000

    async def test_metrics_count_requests_by_route_template(
        self, make_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        async with client_for(make_app(routers=[echo_routes()])) as api:
            await api.post("/v1/echo/metrics-probe")
            response = await api.get("/metrics")

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        assert 'route="/v1/echo/{kind}"' in response.text
        assert "metrics-probe" not in response.text
        assert "http_request_duration_seconds_bucket" in response.text

    async def test_cors_allows_configured_origins_only(
        self, make_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        app = make_app(cors_origins=["http://board.test"])
        preflight = {"Access-Control-Request-Method": "GET"}
        async with client_for(app) as api:
            allowed = await api.options("/v1/whoami", headers={"Origin": "http://board.test", **preflight})
            refused = await api.options("/v1/whoami", headers={"Origin": "http://evil.test", **preflight})

        assert allowed.headers["access-control-allow-origin"] == "http://board.test"
        assert "access-control-allow-origin" not in refused.headers

    async def test_cors_for_any_port_of_a_host_exposes_the_headers_a_client_needs(
        self, make_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        app = make_app(cors_origins=["http://localhost:*"])
        preflight = {"Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "if-match"}
        async with client_for(app) as api:
            dev = await api.options("/v1/whoami", headers={"Origin": "http://localhost:5173", **preflight})
            bare = await api.options("/v1/whoami", headers={"Origin": "http://localhost", **preflight})
            lookalike = await api.options("/v1/whoami", headers={"Origin": "http://localhost.evil.test", **preflight})
            other = await api.options("/v1/whoami", headers={"Origin": "https://localhost:5173", **preflight})
            answer = await api.get("/v1/whoami", headers={"Origin": "http://localhost:5173"})

        assert dev.status_code == 200 and dev.headers["access-control-allow-origin"] == "http://localhost:5173"
        assert "if-match" in dev.headers["access-control-allow-headers"].lower()
        assert bare.headers["access-control-allow-origin"] == "http://localhost"
        assert "access-control-allow-origin" not in lookalike.headers
        assert "access-control-allow-origin" not in other.headers
        exposed = {h.strip().lower() for h in answer.headers["access-control-expose-headers"].split(",")}
        assert {"etag", "location", "retry-after"} <= exposed
