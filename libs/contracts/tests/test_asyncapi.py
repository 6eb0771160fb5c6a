"""The AsyncAPI document and JSON Schemas in docs/ say what the contracts say."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from conveyor_contracts.asyncapi import build, schemas, write
from conveyor_messaging.contracts import EventContract, registry

pytestmark = pytest.mark.unit

DOCS = Path(__file__).resolve().parents[3] / "docs"


class SampleHappenedV1(EventContract, type_name="conveyor.sample.widget.happened.v1"):
    """A widget happened."""

    widget_id: str
    count: int


class TestAsyncApiDocument:
    def test_committed_document_and_schemas_are_up_to_date(self, tmp_path: Path) -> None:
        real = [c for c in registry if not c.type_name.startswith(("conveyor.sample.", "conveyor.test."))]
        generated = tmp_path / "docs"
        generated.mkdir()
        from conveyor_contracts import asyncapi

        (generated / "asyncapi.yaml").write_text(asyncapi.render(asyncapi.build(real)))
        assert (DOCS / "asyncapi.yaml").read_text() == (generated / "asyncapi.yaml").read_text(), (
            "docs/asyncapi.yaml is stale: run `make contracts`"
        )
        committed = {p.name: p.read_text() for p in (DOCS / "events" / "schemas").glob("*.json")}
        assert committed == schemas(real), "docs/events/schemas is stale: run `make contracts`"

    def test_every_contract_is_a_message_on_its_aggregate_channel(self) -> None:
        doc = build([SampleHappenedV1])
        assert doc["asyncapi"] == "3.0.0"
        channel = doc["channels"]["conveyor_sample_widget"]
        assert channel["address"] == "conveyor.sample.widget"
        message = doc["components"]["messages"]["conveyor_sample_widget_happened_v1"]
        assert message["summary"] == "A widget happened."
        assert message["payload"]["required"] == ["widget_id", "count"]
        assert doc["operations"]["sample_publishes_conveyor_sample_widget"]["action"] == "send"

    def test_every_reference_in_the_committed_document_points_at_something(self) -> None:
        """The official parser refused the document for five `$ref`s to nested models (Option, ItemRef,
        ...) that pointed nowhere; every local reference must resolve."""
        document = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())

        def refs(node: Any) -> list[str]:
            if isinstance(node, dict):
                own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
                return own + [r for value in node.values() for r in refs(value)]
            return [r for value in node for r in refs(value)] if isinstance(node, list) else []

        def resolves(ref: str) -> bool:
            node: Any = document
            for part in ref.removeprefix("#/").split("/"):
                if not isinstance(node, dict) or part not in node:
                    return False
                node = node[part]
            return True

        found = refs(document)
        assert "#/components/schemas/ItemRef" in found and "#/components/schemas/Option" in found
        assert [ref for ref in found if not resolves(ref)] == []
        assert "$defs" not in yaml.safe_dump(document["components"]["messages"])

    def test_write_creates_one_schema_file_per_event_type(self, tmp_path: Path) -> None:
        write(tmp_path)
        assert (tmp_path / "asyncapi.yaml").exists()
        assert (tmp_path / "events" / "schemas").is_dir()
