"""Fixtures for the kit's unit tests: a throwaway service built on the kit, and a client for it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from conveyor_kit.app import create_app
from conveyor_kit.clock import Clock
from conveyor_kit.settings import ServiceSettings
from fastapi import APIRouter, FastAPI
from pydantic_settings import SettingsConfigDict

# Long enough that PyJWT does not warn about short HMAC keys.
TEST_SECRET = "unit-test-secret-that-is-long-enough-for-hs256"


class KitSettings(ServiceSettings):
    """Settings of the imaginary service the tests build."""

    model_config = SettingsConfigDict(env_prefix="KITTEST_")
    port: int = 8099


@pytest.fixture
def jwt_secret() -> str:
    return TEST_SECRET


@pytest.fixture
def settings_cls() -> type[KitSettings]:
    return KitSettings


@pytest.fixture
def make_settings() -> Callable[..., KitSettings]:
    def make(**overrides: Any) -> KitSettings:
        values: dict[str, Any] = {"environment": "test", "jwt_secret": TEST_SECRET}
        return KitSettings(**{**values, **overrides})

    return make


@pytest.fixture
def make_app(make_settings: Callable[..., KitSettings]) -> Callable[..., FastAPI]:
    def make(*, routers: list[APIRouter] | None = None, clock: Clock | None = None, **overrides: Any) -> FastAPI:
        return create_app(
            make_settings(**overrides),
            title="kit test",
            version="0",
            routers=routers or [],
            clock=clock,
        )

    return make


@pytest.fixture
def client_for() -> Callable[[FastAPI], AbstractAsyncContextManager[httpx.AsyncClient]]:
    @asynccontextmanager
    async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
        # Unhandled errors must reach the client as responses, as they would over a socket.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://kit.test") as c:
            yield c

    return client
