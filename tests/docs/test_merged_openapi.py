"""docs/openapi.json, the merged document of the whole public API that the gateway serves at
`/openapi.json` and the TypeScript client is generated from, is what the five services declare today."""

from __future__ import annotations

import json
from pathlib import Path

import gateway  # deploy/gateway/gateway.py (on pytest's pythonpath)
import pytest

pytestmark = pytest.mark.unit

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def merged() -> dict:  # type: ignore[type-arg]
    return gateway.merged_openapi()


def test_the_committed_document_is_current(merged: dict) -> None:  # type: ignore[type-arg]
    committed = (REPO_ROOT / "docs" / "openapi.json").read_text()
    assert committed == gateway.render_openapi(merged), "docs/openapi.json is stale: run `make openapi`"


def test_it_holds_every_service_and_only_public_paths(merged: dict) -> None:  # type: ignore[type-arg]
    services = {
        operation["x-conveyor-service"]
        for item in merged["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "x-conveyor-service" in operation
    }
    assert services == set(gateway.SERVICES)
    assert not [path for path in merged["paths"] if not path.startswith("/v1/")]
    assert json.loads(gateway.render_openapi(merged)) == merged


def test_its_references_all_resolve(merged: dict) -> None:  # type: ignore[type-arg]
    text = json.dumps(merged)
    names = set(merged["components"]["schemas"])
    refs = {part.split('"', 1)[0] for part in text.split('"$ref": "#/components/schemas/')[1:]}
    assert refs - names == set()
