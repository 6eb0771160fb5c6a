"""Calls a webhook target: resolves the host, refuses internal addresses, never follows redirects."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass

import httpx

from notifications.domain.targets import TargetRefused, check_addresses, split_target


@dataclass(frozen=True, slots=True)
class Outcome:
    status_code: int | None
    error: str | None
    duration_ms: float

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def check_target(url: str, allow_list: list[str]) -> None:
    """Refuse the URL unless every address its host resolves to is public or allowed."""
    host, port = split_target(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise TargetRefused(f"{host} does not resolve: {error.strerror}") from None
    check_addresses(host, sorted({str(info[4][0]) for info in infos}), allow_list)


async def post(url: str, body: bytes, headers: dict[str, str], *, allow_list: list[str], timeout: float) -> Outcome:
    started = time.perf_counter()
    try:
        await check_target(url, allow_list)
        async with httpx.AsyncClient(follow_redirects=False, timeout=timeout, trust_env=False) as client:
            response = await client.post(url, content=body, headers=headers)
        error = None if response.is_success else f"HTTP {response.status_code}"
        if response.is_redirect:
            error = f"HTTP {response.status_code}: redirects are not followed"
        return Outcome(response.status_code, error, (time.perf_counter() - started) * 1000)
    except TargetRefused as refused:
        return Outcome(None, f"refused: {refused}", (time.perf_counter() - started) * 1000)
    except httpx.HTTPError as error:
        return Outcome(None, f"{type(error).__name__}: {error}", (time.perf_counter() - started) * 1000)
