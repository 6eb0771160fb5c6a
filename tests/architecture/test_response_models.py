"""Every route of the five public APIs declares what it answers (docs/api-conventions.md): each
operation documents a 2xx body with a schema (a model, an array of models, a scalar), a non-JSON
media type (CSV, XML, iCalendar, an event stream), or no body (204). A route typed `dict[str, Any]`
documents a bare object, which a generated client types `unknown`: this test names it."""

from __future__ import annotations

from typing import Any

import gateway  # deploy/gateway/gateway.py (on pytest's pythonpath)
import pytest

pytestmark = pytest.mark.unit

METHODS = ("get", "put", "post", "delete", "patch")


def typed(schema: dict[str, Any]) -> bool:
    """A schema a client can use: a model, a scalar, or an array or union of those."""
    if "$ref" in schema or schema.get("properties"):
        return True
    if schema.get("type") == "array":
        return typed(schema.get("items") or {})
    options = schema.get("anyOf", []) + schema.get("oneOf", [])
    if options:
        return all(typed(option) for option in options)
    return schema.get("type") not in (None, "object")


def describes_its_body(status: str, response: dict[str, Any]) -> bool:
    if status == "204":
        return True
    return any(
        media_type != "application/json" or typed(body.get("schema") or {})
        for media_type, body in response.get("content", {}).items()
    )


def untyped_operations(document: dict[str, Any]) -> list[str]:
    return [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method in METHODS
        if method in item
        and not any(
            describes_its_body(status, response)
            for status, response in item[method]["responses"].items()
            if status.startswith("2")
        )
    ]


@pytest.mark.parametrize("service", gateway.SERVICES)
def test_every_operation_documents_its_answer(service: str) -> None:
    assert untyped_operations(gateway.service_document(service)) == []


def test_a_bare_object_is_named_and_a_model_is_not() -> None:
    bare = {"200": {"content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}}}}
    model = {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Item"}}}}}
    listed = {"200": {"content": {"application/json": {"schema": {"type": "array", "items": {"type": "object"}}}}}}
    models = {
        "200": {
            "content": {
                "application/json": {
                    "schema": {"type": "array", "items": model["200"]["content"]["application/json"]["schema"]}
                }
            }
        }
    }
    csv = {"200": {"content": {"text/csv": {"schema": {"type": "string"}}}}}
    document = {
        "paths": {
            "/a": {"get": {"responses": bare}},
            "/b": {"get": {"responses": model}},
            "/c": {"get": {"responses": listed}},
            "/e": {"get": {"responses": models}},
            "/d": {"get": {"responses": csv}, "delete": {"responses": {"204": {"description": "gone"}}}},
        }
    }
    assert untyped_operations(document) == ["GET /a", "GET /c"]
