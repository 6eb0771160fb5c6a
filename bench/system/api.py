"""Requests to the five services as a user of the bench tenant, with tokens minted as tests do."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
from conveyor_kit.tokens import mint_token
from stack import SECRET, Stack

ADMIN = ("admin-1", ("admin",))
TOKEN_TTL_S = 6 * 3600


@dataclass
class Api:
    stack: Stack
    tenant: str
    http: httpx.AsyncClient
    _tokens: dict[tuple[str, tuple[str, ...]], dict[str, str]] = field(default_factory=dict)

    def headers(self, user: str, roles: tuple[str, ...]) -> dict[str, str]:
        key = (user, roles)
        if key not in self._tokens:
            token = mint_token(tenant_id=self.tenant, user_id=user, roles=roles, secret=SECRET, ttl_seconds=TOKEN_TTL_S)
            self._tokens[key] = {"Authorization": f"Bearer {token}"}
        return self._tokens[key]

    async def call(
        self,
        service: str,
        method: str,
        path: str,
        body: Any = None,
        *,
        user: tuple[str, tuple[str, ...]] = ADMIN,
        headers: dict[str, str] | None = None,
        params: Any = None,
    ) -> httpx.Response:
        return await self.http.request(
            method,
            self.stack.url(service) + path,
            json=body,
            params=params,
            headers={**self.headers(*user), **(headers or {})},
        )

    async def ok(self, service: str, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = await self.call(service, method, path, body, **kwargs)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {service}{path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None


def new_client() -> httpx.AsyncClient:
    # One keep-alive pool per service host; an open loop needs room for many requests at once.
    limits = httpx.Limits(max_connections=500, max_keepalive_connections=200)
    return httpx.AsyncClient(timeout=httpx.Timeout(30.0), limits=limits)
