"""U+0000 cannot be stored in PostgreSQL text or jsonb: the kit refuses it at the door with 400, so it
never becomes a database error (a 500) deep in a handler."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from typing import Any

import httpx
import pytest
from conveyor_kit.problems import PROBLEM_MEDIA_TYPE
from fastapi import APIRouter, FastAPI

pytestmark = pytest.mark.unit

Client = Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]


def echo() -> APIRouter:
    router = APIRouter(prefix="/v1")

    @router.post("/echo/{name}")
    async def echo_body(name: str, body: dict[str, Any], q: str = "") -> dict[str, Any]:
        return {"name": name, "q": q, "body": body}

    return router


@pytest.fixture
async def api(make_app: Callable[..., FastAPI], client_for: Client) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(make_app(routers=[echo()])) as client:
        yield client


class TestNulCharacters:
    async def test_a_nul_in_the_query_is_a_400_problem(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/v1/echo/a?q=x%00y", json={})

        assert response.status_code == 400
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        assert response.json()["type"].endswith("/nul-character")

    async def test_a_nul_in_a_path_segment_is_a_400_problem(self, api: httpx.AsyncClient) -> None:
        response = await api.post("/v1/echo/a%00b", json={})

        assert response.status_code == 400

    async def test_an_escaped_nul_in_a_json_body_is_a_400_problem(self, api: httpx.AsyncClient) -> None:
        response = await api.post(
            "/v1/echo/a", content=b'{"title": "x\\u0000y"}', headers={"content-type": "application/json"}
        )

        assert response.status_code == 400
        assert "JSON body" in response.json()["detail"]

    async def test_an_escaped_backslash_before_u0000_is_ordinary_text(self, api: httpx.AsyncClient) -> None:
        response = await api.post(
            "/v1/echo/a", content=b'{"title": "C:\\\\u0000"}', headers={"content-type": "application/json"}
        )

        assert response.status_code == 200
        assert response.json()["body"] == {"title": "C:\\u0000"}

    async def test_a_clean_request_passes_with_its_whole_body(self, api: httpx.AsyncClient) -> None:
        body = {"text": "x" * 200_000}

        response = await api.post("/v1/echo/a?q=ok", json=body)

        assert response.status_code == 200
        assert response.json() == {"name": "a", "q": "ok", "body": body}

    async def test_a_streamed_oversize_json_body_is_still_a_413_problem(
        self, make_app: Callable[..., FastAPI], client_for: Client
    ) -> None:
        async def chunks() -> AsyncIterator[bytes]:
            yield b'{"text": "'
            for _ in range(40):
                yield b"x" * 32 * 1024
            yield b'"}'

        async with client_for(make_app(routers=[echo()], max_body_bytes=1024 * 1024)) as api:
            response = await api.post("/v1/echo/a", content=chunks(), headers={"content-type": "application/json"})

        assert response.status_code == 413
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
