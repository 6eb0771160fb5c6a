"""ASGI middleware every service runs: correlation ids, a body-size limit and a last-resort 500."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Mapping

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from conveyor_kit.logging import get_logger
from conveyor_kit.problems import Problem, internal_error_response, nul_character, payload_too_large, public_path

CORRELATION_HEADER = "X-Correlation-ID"
CAUSATION_HEADER = "X-Causation-ID"
REQUEST_ID_HEADER = "X-Request-ID"
# Ids from outside end up in every log line, so anything odd is replaced, not trusted.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")
_QUIET_PATHS = ("/health/", "/metrics")

log = get_logger(__name__)


def _safe_id(value: str | None) -> str | None:
    return value if value and _SAFE_ID.match(value) else None


class CorrelationIdMiddleware:
    """Binds correlation, causation and request ids to the request's logs and echoes them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        correlation_id = _safe_id(headers.get(CORRELATION_HEADER)) or str(uuid.uuid4())
        causation_id = _safe_id(headers.get(CAUSATION_HEADER))
        request_id = str(uuid.uuid4())
        scope.setdefault("state", {}).update(
            correlation_id=correlation_id, causation_id=causation_id, request_id=request_id
        )
        status = 500

        async def send_with_ids(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                response_headers = MutableHeaders(scope=message)
                response_headers[CORRELATION_HEADER] = correlation_id
                response_headers[REQUEST_ID_HEADER] = request_id
            await send(message)

        # Each request starts from an empty context: nothing of a previous request leaks in.
        outer = structlog.contextvars.get_contextvars()
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(correlation_id=correlation_id, request_id=request_id)
        if causation_id:
            structlog.contextvars.bind_contextvars(causation_id=causation_id)
        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_ids)
        finally:
            path = public_path(scope)
            level = logging.DEBUG if path.startswith(_QUIET_PATHS) else logging.INFO
            log.log(
                level,
                "request_finished",
                method=scope["method"],
                path=path,
                status=status,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(**outer)


class BodySizeLimitMiddleware:
    """Refuses request bodies above `max_bytes` with 413 problem+json, declared or streamed; the paths
    of `limits_by_path` (routes that stream their body to disk) have their own limit."""

    def __init__(self, app: ASGIApp, max_bytes: int, limits_by_path: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.limits_by_path = dict(limits_by_path or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"].removeprefix(scope.get("root_path", ""))
        limit = self.limits_by_path.get(path, self.max_bytes)
        declared = Headers(scope=scope).get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await payload_too_large(limit).response(public_path(scope))(scope, receive, send)
            return
        received = 0

        async def receive_within_limit() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # A Problem is an HTTPException: the app's handlers render it as 413.
                    raise payload_too_large(limit)
            return message

        await self.app(scope, receive_within_limit, send)


# A JSON string escape of U+0000 that is not itself an escaped backslash followed by "u0000".
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _has_nul(text: bytes) -> bool:
    return b"\x00" in text or b"%00" in text


async def _whole_body(receive: Receive) -> bytes:
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


class NulCharacterGuardMiddleware:
    """Refuses U+0000 in the path, the query or a JSON body with 400 problem+json.

    PostgreSQL cannot store NUL in text or jsonb, so without this a NUL anywhere a value reaches
    the database is an error deep in a query (a 500) instead of the client's mistake.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _has_nul(scope.get("raw_path") or scope["path"].encode()) or _has_nul(scope.get("query_string", b"")):
            await nul_character("the URL").response(public_path(scope))(scope, receive, send)
            return
        content_type = Headers(scope=scope).get("content-type", "")
        if "json" not in content_type:
            await self.app(scope, receive, send)
            return
        # Bodies are bounded by BodySizeLimitMiddleware (outside this one), so reading one whole is safe.
        try:
            body = await _whole_body(receive)
        except Problem as problem:  # the body limit, raised while streaming: outside the app's handlers
            await problem.response(public_path(scope))(scope, receive, send)
            return
        if _JSON_NUL.search(body):
            await nul_character("the JSON body").response(public_path(scope))(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


class UnhandledErrorMiddleware:
    """Turns any exception that escaped the handlers into a bare 500, logging it once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_tracking(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Problem as problem:
            if started:
                raise
            await problem.response(public_path(scope))(scope, receive, send)
        except Exception:
            log.exception("unhandled_error", method=scope["method"], path=public_path(scope))
            if started:
                raise
            await internal_error_response(scope["path"])(scope, receive, send)
