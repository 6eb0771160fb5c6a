"""docs/api-conventions.md, checked on the merged document of the five APIs (what the gateway serves
and the TypeScript client is generated from), so a new route that breaks a convention fails here.

Collections that are not yet `{"items", "next_cursor"}` are listed by name below: the list may only
shrink (a new bare list or `{"<plural>": ...}` fails), and the issue that will empty it is #19.
"""

from __future__ import annotations

import re
from typing import Any

import gateway  # deploy/gateway/gateway.py (on pytest's pythonpath)
import pytest

pytestmark = pytest.mark.unit

METHODS = ("get", "put", "post", "delete", "patch")
# Collections still answered in an older shape (a bare array or `{"<plural>": [...]}`): not to grow.
NOT_YET_PAGES = {
    "GET /v1/dictionaries",
    "GET /v1/directory/absences",
    "GET /v1/directory/departments",
    "GET /v1/directory/users",
    "GET /v1/entity-types",
    "GET /v1/items/{item_id}/links/{relation_id}",
    "GET /v1/notifications",
    "GET /v1/pipelines",
    "GET /v1/products",
    "GET /v1/products/{product_id}/items",
    "GET /v1/relations",
    "GET /v1/rollup-rules",
    "GET /v1/stage-departments",
    "GET /v1/templates",
    "GET /v1/tunnels",
    "GET /v1/webhooks/deliveries",
    "GET /v1/webhooks/subscriptions",
    "GET /v1/calendar/entries",
}
# Resources that hold a list, not collections: a role's grants are read and replaced (PUT) whole.
WHOLE_RESOURCES = {"GET /v1/directory/roles/{role}/grants"}
# Path parameters that are no id of a resource: a role's name, a feed's or a webhook's secret.
NOT_IDS = {"role", "secret", "token"}
INSTANT = re.compile(r"(^|_)at$")


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    merged: dict[str, Any] = gateway.merged_openapi()
    return merged


def operations(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (f"{method.upper()} {path}", item[method])
        for path, item in document["paths"].items()
        for method in METHODS
        if method in item
    ]


def answer_schema(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any] | None:
    ok = operation["responses"].get("200", {}).get("content", {}).get("application/json", {}).get("schema")
    if ok is None:
        return None
    if "$ref" in ok:
        found: dict[str, Any] = document["components"]["schemas"][ok["$ref"].rsplit("/", 1)[1]]
        return found
    answer: dict[str, Any] = ok
    return answer


def is_collection(schema: dict[str, Any]) -> bool:
    """A bare array, or an object whose only array member holds the resources (a list in an envelope)."""
    if schema.get("type") == "array":
        return True
    properties = schema.get("properties", {})
    arrays = [name for name, member in properties.items() if member.get("type") == "array"]
    return len(arrays) == 1 and len(properties) <= 2 and set(properties) - set(arrays) <= {"next_cursor", "unread"}


def test_every_instant_is_an_rfc3339_date_time(document: dict[str, Any]) -> None:
    untyped = [
        f"{name}.{member}"
        for name, schema in document["components"]["schemas"].items()
        for member, spec in schema.get("properties", {}).items()
        if INSTANT.search(member) and not any(o.get("format") == "date-time" for o in spec.get("anyOf", [spec]))
    ]
    assert untyped == []


def test_a_write_that_takes_if_match_documents_its_412(document: dict[str, Any]) -> None:
    undocumented = [
        name
        for name, operation in operations(document)
        if any(p["in"] == "header" and p["name"].lower() == "if-match" for p in operation.get("parameters", []))
        and "412" not in operation["responses"]
    ]
    assert undocumented == []


def test_path_parameters_name_the_id_of_a_thing(document: dict[str, Any]) -> None:
    names = {
        parameter["name"]
        for _, operation in operations(document)
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "path"
    }
    assert sorted(name for name in names - NOT_IDS if not name.endswith("_id")) == []


def test_collections_are_pages_with_a_cursor(document: dict[str, Any]) -> None:
    pages, others = set(), set()
    for name, operation in operations(document):
        schema = answer_schema(document, operation)
        if not name.startswith("GET ") or name in WHOLE_RESOURCES or schema is None or not is_collection(schema):
            continue
        properties = schema.get("properties", {})
        query = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        if set(properties) == {"items", "next_cursor"} and {"limit", "cursor"} <= query:
            pages.add(name)
        else:
            others.add(name)

    assert sorted(others - NOT_YET_PAGES) == [], "a new collection: answer Page[...] with limit and cursor"
    assert sorted(NOT_YET_PAGES - others) == [], "now a page (or gone): take it off NOT_YET_PAGES"
    assert {"GET /v1/items", "GET /v1/process-templates", "GET /v1/processes"} <= pages


def test_the_checks_tell_a_page_from_a_bare_list() -> None:
    assert is_collection({"type": "array", "items": {}})
    assert is_collection({"properties": {"items": {"type": "array"}, "next_cursor": {"type": "string"}}})
    assert is_collection({"properties": {"entity_types": {"type": "array"}}})
    assert not is_collection({"properties": {"rows": {"type": "array"}, "period": {}, "pipeline_id": {}}})
