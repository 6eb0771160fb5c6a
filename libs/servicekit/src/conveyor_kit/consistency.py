"""Read your own writes across services, at the HTTP edge (conveyor_messaging.consistency).

- A successful write answers a `Conveyor-Consistency` header naming the events it stored
  (`ConsistencyMiddleware`).
- A request that sends one back waits, once its caller is authenticated and before the route runs
  (`wait_for_token`, called by the kit's request context), until this service has applied those of
  the events it consumes: at most `consistency_wait_seconds` (CONVEYOR_CONSISTENCY_WAIT_SECONDS,
  5 s by default), checking the processed marks with a growing pause. Past that it answers 503
  `not-yet-consistent` with `Retry-After: 1`; a header that is no token is a 400
  `bad-consistency-token`.

So a client that creates an entity type and at once creates its pipeline, or creates an item and at
once reads the board, sends the first answer's token and gets what it wrote, never a 422 or an empty
list because the other service had not heard of it yet.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from conveyor_messaging import consistency
from fastapi import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conveyor_kit.logging import get_logger
from conveyor_kit.problems import Problem

HEADER = consistency.HEADER
_HEADER_KEY = HEADER.lower().encode()
FIRST_PAUSE_S = 0.005
LONGEST_PAUSE_S = 0.2

log = get_logger(__name__)


class ConsistencyMiddleware:
    """Adds the token of what a request wrote to its successful answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with consistency.collecting() as written:

            async def send_with_token(message: Message) -> None:
                if message["type"] == "http.response.start" and message["status"] < 400:
                    token = consistency.token_of(written)
                    if token is not None:
                        message = {**message, "headers": [*message.get("headers", []), (_HEADER_KEY, token.encode())]}
                await send(message)

            await self.app(scope, receive, send_with_token)


async def wait_for_token(request: Request) -> None:
    """Wait until this service has applied the events the request's token names, if it sends one.

    Called after authentication (from the request context), so only a known caller makes a service
    wait; 400 for a header that is no token, 503 with Retry-After when the wait runs out."""
    sent = request.headers.get(HEADER)
    if sent is None:
        return
    try:
        entries = consistency.parse_token(sent)
    except consistency.BadToken as bad:
        raise Problem(400, "Bad consistency token", str(bad), slug="bad-consistency-token") from None
    state: Any = request.app.state
    backbone, pool, settings = getattr(state, "backbone", None), getattr(state, "pool", None), state.settings
    if backbone is None or pool is None:
        return  # nothing consumed here (a service started without its backbone)
    wanted = consistency.to_wait_for(entries, service=settings.service_name, consumers=backbone.consumers_by_topic())
    deadline = time.monotonic() + settings.consistency_wait_seconds
    pause = FIRST_PAUSE_S
    while wanted:
        async with pool.acquire() as conn:
            missing = await consistency.missing(conn, wanted)
        if not missing:
            return
        if time.monotonic() + pause > deadline:
            log.info("consistency_wait_expired", missing=missing[:5], waited_s=settings.consistency_wait_seconds)
            raise Problem(
                503,
                "Not yet consistent",
                f"this service has not applied {len(missing)} of the events your token names yet; retry shortly",
                slug="not-yet-consistent",
                headers={"Retry-After": "1"},
                missing_event_ids=missing[:5],
            )
        await asyncio.sleep(pause)
        pause = min(pause * 2, LONGEST_PAUSE_S)
        wanted = {event_id: wanted[event_id] for event_id in missing}
