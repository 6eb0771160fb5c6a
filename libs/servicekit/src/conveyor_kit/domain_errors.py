"""Errors a domain rule raises, free of HTTP: handlers raise them, the edge maps them.

A handler runs behind an HTTP route and behind a Kafka reaction alike. It raises one of these
kinds; `conveyor_kit.problems` renders it as problem+json at the HTTP edge (the kind picks the
status), and a reaction catches ``DomainError`` to record a refused command. A reaction never
sees an HTTP ``Problem``.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    """A rule of the domain refused the work. ``title`` and ``slug`` name the refusal for clients;
    ``detail`` says what was wrong in this case; ``extensions`` are extra members of the problem."""

    title: ClassVar[str] = "Refused"
    slug: ClassVar[str] = "refused"

    def __init__(self, detail: str, **extensions: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extensions = extensions


class NotFound(DomainError):
    """The thing does not exist, or the caller may not know that it does (404 at the edge)."""

    title, slug = "Not found", "not-found"


class Forbidden(DomainError):
    """The caller is known but may not do this (403 at the edge)."""

    title, slug = "Forbidden", "forbidden"


class Conflict(DomainError):
    """The thing is not in a state that allows this (409 at the edge)."""

    title, slug = "Conflict", "conflict"


class Invalid(DomainError):
    """The request names something that cannot be (422 at the edge)."""

    title, slug = "Invalid request", "invalid-request"


class StaleVersion(DomainError):
    """The caller's If-Match names a version the resource has left behind (412 at the edge): another
    change came first. The same problem type in every service (docs/api-conventions.md)."""

    title, slug = "Precondition failed", "version-mismatch"

    def __init__(self, detail: str, *, expected: int | None, current: int | None) -> None:
        super().__init__(detail, expected_version=expected, current_version=current)
