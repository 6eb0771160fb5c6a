"""Waiting for what travels through Kafka: poll until it holds, never sleep a fixed time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(
    probe: Callable[[], Awaitable[Any]], accept: Callable[[Any], bool], *, within: float = 30.0
) -> Any:
    """Poll until ``accept(await probe())``; fail with the last value after ``within`` seconds."""
    deadline = asyncio.get_running_loop().time() + within
    while True:
        value = await probe()
        if accept(value):
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"never happened; last value: {value!r}")
        await asyncio.sleep(0.1)
