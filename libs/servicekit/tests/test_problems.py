"""Every error answers with RFC 9457 problem+json, and a 500 says nothing of its cause."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import asyncpg
import httpx
import pytest
from conveyor_kit import domain_errors
from conveyor_kit.problems import (
    PROBLEM_MEDIA_TYPE,
    Problem,
    conflict,
    forbidden,
    not_found,
    unauthorized,
)
from conveyor_messaging.eventstore import ConcurrencyConflict
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

pytestmark = pytest.mark.unit

Client = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


class Line(BaseModel):
    sku: str
    quantity: int


class Order(BaseModel):
    name: str
    lines: list[Line]


def routes() -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.post("/orders")
    async def place(order: Order) -> Order:
        return order

    @router.get("/orders/{order_id}")
    async def read(order_id: str) -> None:
        raise not_found(f"no order {order_id}", order_id=order_id)

    @router.put("/orders/{order_id}")
    async def replace(order_id: str) -> None:
        raise conflict("expected version 3, found 4", expected_version=3, actual_version=4)

    @router.patch("/orders/{order_id}")
    async def patch(order_id: str) -> None:
        raise ConcurrencyConflict(order_id, expected=3, actual=5)

    class NoSuchStage(domain_errors.Invalid):
        title, slug = "Unknown stage", "unknown-stage"

    @router.post("/orders/{order_id}/stage")
    async def move(order_id: str) -> None:
        raise NoSuchStage(f"order {order_id} has no stage 'shipped'", stage_id="shipped")

    @router.delete("/orders/{order_id}")
    async def cancel(order_id: str) -> None:
        raise domain_errors.Forbidden("orders are cancelled by their buyer")

    @router.get("/crash")
    async def crash() -> None:
        raise RuntimeError("password=hunter2 at db.internal:5432")

    @router.get("/database-away")
    async def database_away() -> None:
        raise ConnectionRefusedError(111, "Connect call failed ('10.0.0.7', 5432)")

    @router.get("/database-misused")
    async def database_misused() -> None:
        raise asyncpg.InterfaceError("cannot perform operation: another operation is in progress")

    return router


@pytest.fixture
async def api(make_app: Callable[..., FastAPI], client_for: Client) -> Any:
    async with client_for(make_app(routers=[routes()])) as client:
        yield client


class TestProblemShape:
    async def test_a_raised_problem_keeps_its_members(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/v1/orders/o-1")

        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert response.json() == {
            "type": "https://conveyor.dev/problems/not-found",
            "title": "Not found",
            "status": 404,
            "detail": "no order o-1",
            "instance": "/v1/orders/o-1",
            "order_id": "o-1",
        }

    async def test_a_version_conflict_is_409(self, api: httpx.AsyncClient) -> None:
        response = await api.put("/v1/orders/o-1")

        body = response.json()
        assert response.status_code == 409
        assert body["type"] == "https://conveyor.dev/problems/conflict"
        assert (body["expected_version"], body["actual_version"]) == (3, 4)

    async def test_an_event_store_conflict_is_a_412_version_mismatch_naming_both_versions(
        self, api: httpx.AsyncClient
    ) -> None:
        # The caller's If-Match went stale: the same problem type in every service (docs/api-conventions.md).
        response = await api.patch("/v1/orders/o-1")

        body = response.json()
        assert response.status_code == 412
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert body["type"] == "https://conveyor.dev/problems/version-mismatch"
        assert body["title"] == "Precondition failed"
        assert (body["expected_version"], body["current_version"]) == (3, 5)

    async def test_a_domain_error_answers_its_kinds_status_with_its_own_name_and_members(
        self, api: httpx.AsyncClient
    ) -> None:
        moved, cancelled = await api.post("/v1/orders/o-1/stage"), await api.delete("/v1/orders/o-1")

        assert moved.status_code == 422 and moved.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert moved.json() == {
            "type": "https://conveyor.dev/problems/unknown-stage",
            "title": "Unknown stage",
            "status": 422,
            "detail": "order o-1 has no stage 'shipped'",
            "instance": "/v1/orders/o-1/stage",
            "stage_id": "shipped",
        }
        assert (cancelled.status_code, cancelled.json()["type"]) == (403, "https://conveyor.dev/problems/forbidden")

    async def test_an_unknown_route_is_a_404_problem(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/v1/nothing-here")

        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert response.json()["type"] == "https://conveyor.dev/problems/not-found"

    async def test_a_wrong_method_is_a_405_problem(self, api: httpx.AsyncClient) -> None:
        response = await api.delete("/v1/orders")

        assert response.status_code == 405
        assert response.json()["type"] == "https://conveyor.dev/problems/method-not-allowed"

    def test_extension_members_cannot_shadow_standard_ones(self) -> None:
        problem = Problem(400, "Bad", slug="bad", type="urn:shadow", instance="/elsewhere")
        assert problem.to_dict() == {
            "type": "https://conveyor.dev/problems/bad",
            "title": "Bad",
            "status": 400,
        }

    def test_helpers_carry_their_status(self) -> None:
        assert [p.status for p in (not_found(), conflict(), unauthorized(), forbidden())] == [
            404,
            409,
            401,
            403,
        ]
        assert unauthorized().headers == {"WWW-Authenticate": "Bearer"}


class TestValidationErrors:
    async def test_every_invalid_field_is_listed_with_a_pointer(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/v1/orders", json={"name": 7, "lines": [{"sku": "ball"}, {"quantity": 1}]})

        body = response.json()
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert body["type"] == "https://conveyor.dev/problems/validation-error"
        assert {e["field"] for e in body["errors"]} == {
            "/body/name",
            "/body/lines/0/quantity",
            "/body/lines/1/sku",
        }
        assert all(e["message"] for e in body["errors"])

    async def test_malformed_json_is_a_422_problem(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/v1/orders", content=b"{not json", headers={"content-type": "application/json"})

        assert response.status_code == 422
        assert response.json()["errors"][0]["field"].startswith("/body")


class TestUnhandledErrors:
    async def test_a_crash_is_a_bare_500_problem(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/v1/crash")

        assert response.status_code == 500
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert response.json() == {
            "type": "https://conveyor.dev/problems/internal-error",
            "title": "Internal server error",
            "status": 500,
            "instance": "/v1/crash",
        }
        assert "hunter2" not in response.text
        assert response.headers["x-correlation-id"]

    async def test_a_database_that_is_away_is_a_503_to_try_again_without_its_address(
        self, api: httpx.AsyncClient
    ) -> None:
        response = await api.get("/v1/database-away")

        assert response.status_code == 503
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert response.headers["retry-after"] == "5"
        assert response.json()["type"] == "https://conveyor.dev/problems/service-unavailable"
        assert "10.0.0.7" not in response.text

    async def test_a_misused_connection_is_still_a_500(self, api: httpx.AsyncClient) -> None:
        response = await api.get("/v1/database-misused")

        assert response.status_code == 500
