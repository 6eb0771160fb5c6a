"""Contracts carry stable wire names, map to topics, and upcast old versions."""

from __future__ import annotations

from typing import Any

import pytest
from conveyor_messaging.contracts import ContractRegistry, EventContract, registry, topic_for
from pydantic import ValidationError

pytestmark = pytest.mark.unit


class ThingRenamedV1(EventContract, type_name="conveyor.test.thing.renamed.v1"):
    """A thing got a new name."""

    name: str


class ThingRenamedV2(EventContract, type_name="conveyor.test.thing.renamed.v2"):
    """A thing got a new name, split in parts."""

    first: str
    last: str


class TestContracts:
    def test_wire_name_does_not_depend_on_the_class_name(self) -> None:
        assert registry.resolve("conveyor.test.thing.renamed.v1") is ThingRenamedV1

    def test_topic_is_one_per_aggregate(self) -> None:
        assert ThingRenamedV1.topic() == "conveyor.test.thing"
        assert topic_for("conveyor.pipelines.item.moved_to_stage.v1") == "conveyor.pipelines.item"

    def test_a_badly_named_contract_is_refused_at_definition(self) -> None:
        with pytest.raises(ValueError, match="conveyor"):

            class Bad(EventContract, type_name="ThingRenamed"):
                pass

    def test_contracts_are_frozen_and_strict(self) -> None:
        event = ThingRenamedV1(name="a")
        with pytest.raises(ValidationError):
            event.name = "b"  # type: ignore[misc]
        with pytest.raises(ValidationError):
            ThingRenamedV1(name="a", extra=1)  # type: ignore[call-arg]

    def test_old_versions_are_upcast_on_decode(self) -> None:
        local = ContractRegistry()
        local.register(ThingRenamedV1)
        local.register(ThingRenamedV2)

        def split(data: dict[str, Any]) -> dict[str, Any]:
            first, _, last = data["name"].partition(" ")
            return {"first": first, "last": last}

        local.register_upcaster("conveyor.test.thing.renamed.v1", "conveyor.test.thing.renamed.v2", split)
        decoded = local.decode("conveyor.test.thing.renamed.v1", {"name": "Ada Lovelace"})
        assert decoded == ThingRenamedV2(first="Ada", last="Lovelace")
