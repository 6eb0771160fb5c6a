"""Requests to the five services as a user of the bench tenant, with tokens minted as tests do.

The client is aiohttp, not httpx (which the tests use): the generator shares the machine with the
system it loads, and httpx cost 1.4 ms of CPU per request against aiohttp's 0.09 (`floor.py`), which
made the generator the third-busiest process and capped it near 700 requests/s per core.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from conveyor_kit.tokens import mint_token
from stack import SECRET, Stack

ADMIN = ("admin-1", ("admin",))
TOKEN_TTL_S = 6 * 3600


@dataclass
class Api:
    stack: Stack
    tenant: str
    http: aiohttp.ClientSession
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
    ) -> Response:
        async with self.http.request(
            method,
            self.stack.url(service) + path,
            json=body,
            params=params,
            headers={**self.headers(*user), **(headers or {})},
        ) as answer:
            return Response(answer.status, answer.headers, await answer.read())

    async def ok(self, service: str, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        try:
            response = await self.call(service, method, path, body, **kwargs)
        except (aiohttp.ClientOSError, aiohttp.ServerDisconnectedError):
            if method != "GET":
                raise
            # A kept-alive connection the server closed as the request left (a reset, not an answer):
            # a read is safe to send again, once, on a fresh connection.
            response = await self.call(service, method, path, body, **kwargs)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {service}{path}: {response.status_code} {response.text[:500]}")
        return response.json() if response.content else None


@dataclass(frozen=True, slots=True)
class Response:
    """An answer, read whole (the generator looks at the status, the ETag and the JSON body)."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")


# What `call` raises when there is no answer at all (refused, reset, timed out).
NO_ANSWER = (aiohttp.ClientError, TimeoutError)


def new_client() -> aiohttp.ClientSession:
    # Keep-alive connections to every service; an open loop needs room for many requests at once.
    connector = aiohttp.TCPConnector(limit=500, limit_per_host=200)
    return aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30.0))
