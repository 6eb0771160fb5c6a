"""docs/api-conventions.md, checked on the merged document of the five APIs (what the gateway serves
and the TypeScript client is generated from), so a new route that breaks a convention fails here.
"""

from __future__ import annotations

import re
from typing import Any

import gateway  # deploy/gateway/gateway.py (on pytest's pythonpath)
import pytest

pytestmark = pytest.mark.unit

METHODS = ("get", "put", "post", "delete", "patch")
# Resources that hold a list, not collections: a role's grants are read and replaced (PUT) whole, the
# departments' tree is read whole (`GET /v1/directory/departments` pages them flat).
WHOLE_RESOURCES = {"GET /v1/directory/roles/{role}/grants", "GET /v1/directory/department-tree"}
# Path parameters that are no id of a resource: a role's name, a feed's or a webhook's secret.
NOT_IDS = {"role", "secret", "token"}
INSTANT = re.compile(r"(^|_)at$")
# Reads keyed by another resource's id, which they name so (docs/api-conventions.md, Resources): an
# item's placement on a board and its automation log are the item's; a board column is its stage's.
KEYED_BY_ANOTHER = {
    "GET /v1/placements/{item_id}",
    "GET /v1/automation-log/{item_id}",
    "GET /v1/pipelines/{pipeline_id}/board/columns/{stage_id}",
}


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
    return len(arrays) == 1 and len(properties) <= 2 and set(properties) - set(arrays) <= {"next_cursor"}


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

    assert sorted(others) == [], "a collection answers Page[...] and takes limit and cursor"
    assert {"GET /v1/items", "GET /v1/process-templates", "GET /v1/processes"} <= pages


def test_the_checks_tell_a_page_from_a_bare_list() -> None:
    assert is_collection({"type": "array", "items": {}})
    assert is_collection({"properties": {"items": {"type": "array"}, "next_cursor": {"type": "string"}}})
    assert is_collection({"properties": {"entity_types": {"type": "array"}}})
    assert not is_collection({"properties": {"rows": {"type": "array"}, "period": {}, "pipeline_id": {}}})


def request_schema_names(document: dict[str, Any]) -> set[str]:
    return {
        schema["$ref"].rsplit("/", 1)[1]
        for _, operation in operations(document)
        for media in operation.get("requestBody", {}).get("content", {}).values()
        if "$ref" in (schema := media.get("schema", {}))
    }


def test_request_bodies_are_named_for_their_resource(document: dict[str, Any]) -> None:
    # One merged document and one generated client: `Binding`, `Preview` or `Completion` say nothing
    # of what they bind, preview or complete, and the next service to need one collides.
    one_word = sorted(name for name in request_schema_names(document) if len(re.findall(r"[A-Z][a-z0-9]*", name)) < 2)
    assert one_word == []


def test_the_name_check_counts_words() -> None:
    names = request_schema_names(
        {"paths": {"/x": {"post": {"requestBody": {"content": {"j": {"schema": {"$ref": "#/c/Binding"}}}}}}}}
    )
    assert names == {"Binding"}
    assert len(re.findall(r"[A-Z][a-z0-9]*", "ProductChoice")) == 2


def test_a_resource_read_by_its_id_carries_id(document: dict[str, Any]) -> None:
    nameless = []
    for name, operation in operations(document):
        schema = answer_schema(document, operation)
        if not name.startswith("GET ") or not name.endswith("}") or name in KEYED_BY_ANOTHER or schema is None:
            continue
        if not is_collection(schema) and "id" not in schema.get("properties", {}):
            nameless.append(name)
    assert nameless == []


def versioned_writes(document: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every write to a resource whose read answers a `version`: PUT, PATCH and DELETE on its path, and
    its actions (`POST {path}/<verb>`, where `<verb>` is no collection of its own)."""
    paths = document["paths"]
    writes = []
    for path, item in paths.items():
        read = answer_schema(document, item["get"]) if "get" in item else None
        if read is None or "version" not in read.get("properties", {}):
            continue
        writes += [(f"{verb.upper()} {path}", item[verb]) for verb in ("put", "patch", "delete") if verb in item]
        for other, actions in paths.items():
            verb = other.removeprefix(path + "/")
            is_action = other.startswith(path + "/") and "/" not in verb and "{" not in verb
            if is_action and "post" in actions and not any(p.startswith(other + "/") for p in paths):
                writes.append((f"POST {other}", actions["post"]))
    return writes


def test_every_write_to_a_versioned_resource_requires_if_match(document: dict[str, Any]) -> None:
    unguarded = []
    for name, operation in versioned_writes(document):
        header = [p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"].lower() == "if-match"]
        if not (header and header[0].get("required") and {"412", "428"} <= set(operation["responses"])):
            unguarded.append(name)
    assert unguarded == []
    assert len(versioned_writes(document)) >= 15  # items, types, dictionaries, products, robots, entries...
