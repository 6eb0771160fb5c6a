"""Calls a webhook target: resolves the host, refuses internal addresses, connects to the checked address, never
follows redirects."""

from __future__ import annotations

import asyncio
import socket
import time
from dataclasses import dataclass
from typing import Any

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


async def check_target(url: str, allow_list: list[str]) -> str:
    """Refuse the URL unless every address its host resolves to is public or allowed; returns one to connect to."""
    host, port = split_target(url)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as error:
        raise TargetRefused(f"{host} does not resolve: {error.strerror}") from None
    addresses = [str(info[4][0]) for info in infos]
    check_addresses(host, sorted(set(addresses)), allow_list)
    return addresses[0]


def pinned(url: str, address: str) -> tuple[httpx.URL, dict[str, str], dict[str, Any]]:
    """The URL with its host replaced by the checked address, so a second DNS answer cannot redirect the call;
    the Host header and TLS server name (SNI, certificate check) stay the original host's."""
    original = httpx.URL(url)
    target = original.copy_with(host=address)
    host_header = original.host if original.port is None else f"{original.host}:{original.port}"
    return target, {"Host": host_header}, {"sni_hostname": original.host}


async def post(url: str, body: bytes, headers: dict[str, str], *, allow_list: list[str], timeout: float) -> Outcome:
    started = time.perf_counter()
    try:
        address = await check_target(url, allow_list)
        target, host_header, extensions = pinned(url, address)
        async with httpx.AsyncClient(follow_redirects=False, timeout=timeout, trust_env=False) as client:
            request = client.build_request(
                "POST", target, content=body, headers={**headers, **host_header}, extensions=extensions
            )
            response = await client.send(request)
        error = None if response.is_success else f"HTTP {response.status_code}"
        if response.is_redirect:
            error = f"HTTP {response.status_code}: redirects are not followed"
        return Outcome(response.status_code, error, (time.perf_counter() - started) * 1000)
    except TargetRefused as refused:
        return Outcome(None, f"refused: {refused}", (time.perf_counter() - started) * 1000)
    except httpx.HTTPError as error:
        return Outcome(None, f"{type(error).__name__}: {error}", (time.perf_counter() - started) * 1000)
