"""The OpenAPI document tells the truth about errors: every one is problem+json, and each operation
lists the statuses the kit itself can answer (a route adds its own with `problem_responses`)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from fastapi import FastAPI

from conveyor_kit.problems import PROBLEM_MEDIA_TYPE

PROBLEM_REF = "#/components/schemas/Problem"
VALIDATION_PROBLEM_REF = "#/components/schemas/ValidationProblem"

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; extension members may follow the standard ones.",
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}
VALIDATION_PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "ValidationProblem",
    "description": "A request that failed validation: every field with a JSON pointer into the request.",
    "allOf": [
        {"$ref": PROBLEM_REF},
        {
            "type": "object",
            "properties": {
                "errors": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "message"],
                        "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
                    },
                }
            },
        },
    ],
}


def _problem(status: int, ref: str = PROBLEM_REF) -> dict[str, Any]:
    return {"description": HTTPStatus(status).phrase, "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": ref}}}}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route (or a router) that answers these statuses as problem+json."""
    return {status: _problem(status) for status in statuses}


def text_body(*media_types: str, status: int = 200) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route whose answer is text of these media types (CSV, XML, a stream), not JSON;
    give the route `response_class=Response` too when JSON is not one of them."""
    content = {media_type: {"schema": {"type": "string"}} for media_type in media_types}
    return {status: {"description": "Successful Response", "content": content}}


def _kit_statuses(operation: dict[str, Any], path: str) -> set[int]:
    """What the kit may answer on any operation, whatever the route does."""
    # 400: U+0000 anywhere in the request (NulCharacterGuardMiddleware), a body that cannot be
    # parsed, a header that cannot be read; 500: the last-resort answer of UnhandledErrorMiddleware.
    statuses = {400, 500}
    if operation.get("security"):
        statuses |= {401, 503}  # no or a bad token; the identity provider's JWKS unreachable
    if "requestBody" in operation:
        statuses |= {413, 422}  # BodySizeLimitMiddleware; a body that fails its model
    if operation.get("parameters"):
        statuses.add(422)
    if "{" in path:
        statuses.add(404)  # an id of nobody, of another tenant, or of an item the caller may not read
    return statuses


def _document_problems(document: dict[str, Any]) -> dict[str, Any]:
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["ValidationProblem"] = VALIDATION_PROBLEM_SCHEMA
    # FastAPI's own validation error models describe a body the kit never sends.
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    for path, operations in document.get("paths", {}).items():
        for operation in operations.values():
            responses: dict[str, Any] = operation.setdefault("responses", {})
            for status in sorted(_kit_statuses(operation, path)):
                responses.setdefault(str(status), _problem(status))
            if "422" in responses:
                responses["422"] = _problem(422, VALIDATION_PROBLEM_REF)
            if "428" in responses:
                _require_if_match(operation)
    return document


def _require_if_match(operation: dict[str, Any]) -> None:
    """A route that answers 428 without If-Match requires it. The route's own parameter stays optional
    (so that a missing header reaches it and is a 428 `precondition-required`, not a 422), but the
    document and the client generated from it must say the header is required."""
    for parameter in operation.get("parameters", []):
        if parameter.get("in") == "header" and parameter.get("name", "").lower() == "if-match":
            parameter["required"] = True


def install_problem_openapi(app: FastAPI) -> None:
    """Make `app.openapi()` describe every error as problem+json."""
    generate = app.openapi  # FastAPI's own: builds the document once and caches it on the app

    def openapi() -> dict[str, Any]:
        # Idempotent, so running it over the cached document again changes nothing.
        return _document_problems(generate())

    app.openapi = openapi  # type: ignore[method-assign]
