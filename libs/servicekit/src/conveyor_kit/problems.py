"""RFC 9457 problem details: one exception type, its helpers and the handlers that render it."""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import asyncpg
from conveyor_messaging.eventstore import ConcurrencyConflict
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.types import Scope

from conveyor_kit import domain_errors
from conveyor_kit.logging import get_logger

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://conveyor.dev/problems/"
_STANDARD_MEMBERS = frozenset({"type", "title", "status", "detail", "instance"})

log = get_logger(__name__)


# Path parameters that are credentials: a webhook trigger's secret, an iCalendar feed's token.
_SECRET_PATH_PARAMS = frozenset({"secret", "token"})
# An unmatched path may still carry a credential (a typo in the route); long segments are hidden.
_LONG_SEGMENT = 24


def public_path(scope: Scope) -> str:
    """The request's path as a log line or a problem's `instance` may show it: the values of credential
    path parameters redacted."""
    path: str = scope["path"]
    if scope.get("route") is None:
        return "/".join("[redacted]" if len(part) >= _LONG_SEGMENT else part for part in path.split("/"))
    for name, value in (scope.get("path_params") or {}).items():
        if name in _SECRET_PATH_PARAMS and value:
            path = path.replace(str(value), "[redacted]")
    return path


def _slug(status: int) -> str:
    return HTTPStatus(status).phrase.lower().replace(" ", "-").replace("'", "")


class ProblemResponse(JSONResponse):
    """A JSON response served as `application/problem+json`."""

    media_type = PROBLEM_MEDIA_TYPE


class Problem(HTTPException):
    """An error a client can act on, rendered as problem+json; raise it from any handler."""

    # Subclassing HTTPException means FastAPI re-raises it from body parsing and
    # dependencies instead of wrapping it in a generic 400.
    def __init__(
        self,
        status: int,
        title: str | None = None,
        detail: str | None = None,
        *,
        slug: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(status_code=status, detail=detail, headers=dict(headers or {}))
        self.status = status
        # HTTPException fills a missing detail with the status phrase; the problem keeps None.
        self.problem_detail = detail
        self.title = title or HTTPStatus(status).phrase
        self.type = PROBLEM_TYPE_BASE + (slug or _slug(status))
        self.extensions = extensions

    def to_dict(self, instance: str | None = None) -> dict[str, Any]:
        """The problem's members, extension members last so they cannot shadow the standard ones."""
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status}
        if self.problem_detail:
            body["detail"] = self.problem_detail
        if instance:
            body["instance"] = instance
        extensions = {k: v for k, v in self.extensions.items() if k not in _STANDARD_MEMBERS}
        return {**extensions, **body}

    def response(self, instance: str | None = None) -> ProblemResponse:
        """This problem as an HTTP response."""
        return ProblemResponse(self.to_dict(instance), self.status, headers=self.headers)


def not_found(detail: str | None = None, **extensions: Any) -> Problem:
    """404: the resource does not exist, or the caller may not know that it does."""
    return Problem(404, "Not found", detail, slug="not-found", **extensions)


def conflict(detail: str | None = None, **extensions: Any) -> Problem:
    """409: the request lost a race, e.g. an expected version that is no longer current."""
    return Problem(409, "Conflict", detail, slug="conflict", **extensions)


def unauthorized(detail: str | None = None) -> Problem:
    """401: no valid bearer token; tells the client which scheme to use."""
    challenge = 'Bearer error="invalid_token"' if detail else "Bearer"
    return Problem(401, "Unauthorized", detail, slug="unauthorized", headers={"WWW-Authenticate": challenge})


def forbidden(detail: str | None = None, **extensions: Any) -> Problem:
    """403: the caller is known but lacks a role or right."""
    return Problem(403, "Forbidden", detail, slug="forbidden", **extensions)


def payload_too_large(limit: int) -> Problem:
    """413: the request body exceeds the service's limit."""
    return Problem(
        413,
        "Content too large",
        f"request bodies are limited to {limit} bytes",
        slug="content-too-large",
        limit_bytes=limit,
    )


def nul_character(where: str) -> Problem:
    """400: text with U+0000, which no value stored in PostgreSQL may hold."""
    return Problem(400, "Bad request", f"{where} contains a NUL character (U+0000)", slug="nul-character")


def _field(loc: tuple[int | str, ...] | list[int | str]) -> str:
    # A JSON pointer into the request: `/body/items/0/name`, `/query/limit`.
    return "/" + "/".join(str(part).replace("~", "~0").replace("/", "~1") for part in loc)


async def _on_problem(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, Problem)
    return exc.response(public_path(request.scope))


async def _on_validation_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [{"field": _field(e["loc"]), "message": e["msg"]} for e in exc.errors()]
    problem = Problem(
        422,
        "Invalid request",
        f"{len(errors)} field(s) failed validation",
        slug="validation-error",
        errors=errors,
    )
    return problem.response(public_path(request.scope))


async def _on_http_exception(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, HTTPException)
    phrase = HTTPStatus(exc.status_code).phrase
    detail: Any = getattr(exc, "detail", None)  # FastAPI's detail may be any JSON value
    extensions = {} if isinstance(detail, str) or detail is None else {"errors": detail}
    text = detail if isinstance(detail, str) and detail != phrase else None
    problem = Problem(exc.status_code, detail=text, headers=exc.headers, **extensions)
    return problem.response(public_path(request.scope))


# The HTTP status of each kind of domain error; a kind not listed is a 409 (the domain refused).
_DOMAIN_STATUS: tuple[tuple[type[domain_errors.DomainError], int], ...] = (
    (domain_errors.NotFound, 404),
    (domain_errors.Forbidden, 403),
    (domain_errors.Invalid, 422),
    (domain_errors.StaleVersion, 412),
    (domain_errors.Conflict, 409),
)


def problem_of(error: domain_errors.DomainError) -> Problem:
    """The problem+json a domain error answers at the HTTP edge."""
    status = next((code for kind, code in _DOMAIN_STATUS if isinstance(error, kind)), 409)
    return Problem(status, error.title, error.detail, slug=error.slug, **error.extensions)


async def _on_domain_error(request: Request, exc: Exception) -> ProblemResponse:
    assert isinstance(exc, domain_errors.DomainError)
    return problem_of(exc).response(public_path(request.scope))


async def _on_concurrency_conflict(request: Request, exc: Exception) -> ProblemResponse:
    # The event store refused an append at a version the stream has left: another change came first.
    # At the HTTP edge that is the caller's If-Match gone stale, whichever check noticed it.
    assert isinstance(exc, ConcurrencyConflict)
    stale = domain_errors.StaleVersion(
        "the resource changed since you read it; reload it and try again", expected=exc.expected, current=exc.actual
    )
    return problem_of(stale).response(public_path(request.scope))


# What a request meets while the service's database is away (stopped, restarting, unreachable) or
# does not answer in time. It is not the request's fault and it passes: 503, try again shortly.
DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    ConnectionError,  # refused or reset: nothing listens, or the server went away
    TimeoutError,  # connecting, or a statement beyond the pool's command timeout
    asyncpg.PostgresConnectionError,  # class 08: the connection failed or was lost mid-statement
    asyncpg.CannotConnectNowError,  # the server is starting up or shutting down
    asyncpg.AdminShutdownError,  # terminated by a shutdown or an administrator
    asyncpg.CrashShutdownError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,  # only a lost connection, see _LOST_CONNECTION
    asyncpg.InternalClientError,  # a connection the server's shutdown left half-way through a statement
)
RETRY_AFTER_SECONDS = 5


def service_unavailable(detail: str) -> Problem:
    """503: a dependency is away; the client may try again after ``Retry-After`` seconds."""
    return Problem(
        503, "Service unavailable", detail, slug="service-unavailable",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )  # fmt: skip


# asyncpg reports a connection the server closed between two statements as an InterfaceError (the
# pool took it back, or it is closed); other InterfaceErrors are misuse, which stays a 500.
_LOST_CONNECTION = ("connection is closed", "released back to the pool", "connection was closed")


async def _on_database_unavailable(request: Request, exc: Exception) -> ProblemResponse:
    if isinstance(exc, asyncpg.InterfaceError) and not any(text in str(exc) for text in _LOST_CONNECTION):
        raise exc
    path = public_path(request.scope)
    log.warning("database_unavailable", method=request.method, path=path, error=repr(exc)[:300])
    problem = service_unavailable("the service cannot reach its database right now; try again shortly")
    return problem.response(path)


def internal_error_response(instance: str | None = None) -> ProblemResponse:
    """The 500 answer: nothing about the cause, which is in the log under the correlation id."""
    problem = Problem(500, "Internal server error", slug="internal-error")
    return problem.response(instance)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error the app raises, expected or not, answer with problem+json."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(HTTPException, _on_http_exception)
    app.add_exception_handler(ConcurrencyConflict, _on_concurrency_conflict)
    app.add_exception_handler(domain_errors.DomainError, _on_domain_error)
    for unavailable in DATABASE_UNAVAILABLE:
        app.add_exception_handler(unavailable, _on_database_unavailable)
