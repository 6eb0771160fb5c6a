"""The domain's refusals as problem+json: one status per kind of refusal."""

from __future__ import annotations

import asyncpg
from conveyor_kit.problems import Problem, conflict, forbidden, not_found, public_path
from fastapi import FastAPI, Request
from fastapi.responses import Response

from entities.domain.errors import (
    Conflict,
    DomainError,
    Forbidden,
    Invalid,
    NotFound,
    UnknownEntityType,
    VersionMismatch,
)
from entities.domain.unique_keys import UniqueConflict


def problem_for(exc: DomainError) -> Problem:
    if isinstance(exc, Invalid):
        detail = f"{len(exc.errors)} field(s) failed validation"
        return Problem(422, "Invalid request", detail, slug="validation-error", errors=exc.errors)
    if isinstance(exc, UnknownEntityType):
        return Problem(404, "Unknown entity type", str(exc), slug="unknown-entity-type")
    if isinstance(exc, NotFound):
        return not_found(str(exc))
    if isinstance(exc, VersionMismatch):
        return Problem(
            412,
            "Precondition failed",
            "it changed since you read it; reload it and try again",
            slug="version-mismatch",
            expected_version=exc.expected,
            current_version=exc.actual,
        )
    if isinstance(exc, Forbidden):
        return forbidden(str(exc) or None)
    if isinstance(exc, UniqueConflict):
        return Problem(
            409, "Conflict", str(exc), slug="unique-conflict", fields=exc.fields, conflicting_item_id=exc.item_id
        )
    if isinstance(exc, Conflict):
        return conflict(str(exc))
    return Problem(400, "Bad request", str(exc))


async def _on_domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, DomainError)
    return problem_for(exc).response(public_path(request.scope))


async def _on_unique_violation(request: Request, exc: Exception) -> Response:
    # Two requests racing for the same code (or id): the second one loses.
    return conflict("it exists already (a concurrent request created it)").response(public_path(request.scope))


def install_domain_errors(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(asyncpg.UniqueViolationError, _on_unique_violation)
