"""Each public path has one owner (docs/api-conventions.md): the table the gateway and the chart's
Ingress route by (deploy/helm/conveyor/public-paths.yaml) names, for every path any service documents,
exactly the service that serves it, and no two services document the same method and path."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import gateway  # deploy/gateway/gateway.py (on pytest's pythonpath)
import pytest

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:  # type: ignore[type-arg]
    return {service: gateway.service_document(service) for service in gateway.SERVICES}


def test_every_documented_path_is_owned_by_the_service_that_serves_it(documents: dict[str, dict]) -> None:  # type: ignore[type-arg]
    misrouted = [
        f"{service} {path} -> {gateway.owner_of(path)}"
        for service, document in documents.items()
        for path in document["paths"]
        if gateway.owner_of(path) != service
    ]
    assert misrouted == []


def test_no_two_services_document_the_same_path(documents: dict[str, dict]) -> None:  # type: ignore[type-arg]
    paths = Counter(path for document in documents.values() for path in document["paths"])
    assert [path for path, n in paths.items() if n > 1] == []


def test_every_prefix_of_the_table_is_used_by_its_owner(documents: dict[str, dict]) -> None:  # type: ignore[type-arg]
    unused = [
        f"{service} {prefix}"
        for service, prefixes in gateway.owners().items()
        for prefix in prefixes
        if not any(path == prefix or path.startswith(prefix + "/") for path in documents[service]["paths"])
    ]
    assert unused == []


def test_the_table_owns_prefixes_by_whole_segments() -> None:
    table = {"entities": ["/v1/items"], "pipelines": ["/v1/items/moves"]}
    assert gateway.owner_of("/v1/items", table) == "entities"
    assert gateway.owner_of("/v1/items/{item_id}", table) == "entities"
    assert gateway.owner_of("/v1/items/moves/{id}", table) == "pipelines"
    assert gateway.owner_of("/v1/items-export", table) is None
    assert gateway.owner_of("/health/live", table) is None


def test_the_merged_document_refuses_a_path_its_owner_does_not_serve(documents: dict[str, dict]) -> None:  # type: ignore[type-arg]
    stray = {**documents["pipelines"], "paths": {"/v1/items/{item_id}/elsewhere": {"get": {"responses": {}}}}}
    with pytest.raises(gateway.RoutingError, match="entities owns"):
        gateway.merged_openapi({"pipelines": stray})


def test_the_test_clock_is_routed_only_when_asked_and_never_owned_by_the_table(tmp_path: Path) -> None:
    # `make run ARGS=--test-clock` routes it; the table (and so the chart's Ingress) never does.
    upstreams = {service: f"127.0.0.1:{8001 + n}" for n, service in enumerate(gateway.SERVICES)}
    plain = gateway.nginx_conf("127.0.0.1:8000", upstreams, tmp_path, tmp_path / "openapi.json")
    testing = gateway.nginx_conf("127.0.0.1:8000", upstreams, tmp_path, tmp_path / "openapi.json", test_clock=True)

    assert "/v1/test" not in plain
    assert "location = /v1/test/clock { proxy_pass http://automation; }" in testing
    assert gateway.owner_of("/v1/test/clock") is None
