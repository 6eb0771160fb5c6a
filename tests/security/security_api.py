"""Talking to the running services as one user of one tenant, and waiting for Kafka to carry a change."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from security_stack import ServiceStack, bearer

T = TypeVar("T")


@dataclass
class As:
    """Requests to any of the five services as ``user`` of ``tenant`` with ``roles``."""

    stack: ServiceStack
    http: httpx.AsyncClient
    tenant: str
    user: str
    roles: tuple[str, ...] = ()
    # Every response this caller received, for the secrets test's look at error bodies.
    seen: list[httpx.Response] = field(default_factory=list)

    async def call(self, service: str, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {**bearer(self.tenant, self.user, *self.roles), **kwargs.pop("headers", {})}
        if body is not None:
            kwargs["json"] = body
        response = await self.http.request(method, self.stack.urls[service] + path, headers=headers, **kwargs)
        self.seen.append(response)
        return response

    async def ok(self, service: str, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = await self.call(service, method, path, body, **kwargs)
        assert response.status_code < 300, f"{service} {method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content and "json" in response.headers.get("content-type", "") else None

    def as_user(self, user: str, *roles: str, tenant: str | None = None) -> As:
        return As(self.stack, self.http, tenant or self.tenant, user, roles, self.seen)


async def settle(probe: Callable[[], Awaitable[T]], accept: Callable[[T], bool], within: float = 20.0) -> T:
    """The probe's value once ``accept`` takes it; after ``within`` seconds, the last value."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await probe()
        if accept(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.1)
