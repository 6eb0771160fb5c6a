"""Every operation of the five public APIs has an operationId a generated client can use as a name:
``<service>_<snake_case>``, unique across all five (one TypeScript client is generated from them)."""

from __future__ import annotations

import importlib
import re
from collections import Counter

import pytest

pytestmark = pytest.mark.unit

SERVICES = ("entities", "pipelines", "automation", "notifications", "reporting")
METHODS = {"get", "put", "post", "delete", "patch", "head", "options"}


def operation_ids(service: str) -> list[str]:
    app = importlib.import_module(f"{service}.entrypoints.http").create()
    document = app.openapi()
    return [
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in METHODS
    ]


def test_operation_ids_are_named_after_their_service_and_unique_across_the_five_apis() -> None:
    found = {service: operation_ids(service) for service in SERVICES}
    every = [operation_id for ids in found.values() for operation_id in ids]

    assert len(every) > 100
    misnamed = [
        operation_id
        for service, ids in found.items()
        for operation_id in ids
        if not re.fullmatch(rf"{service}_[a-z][a-z0-9_]*", operation_id)
    ]
    assert misnamed == []
    assert [operation_id for operation_id, n in Counter(every).items() if n > 1] == []
