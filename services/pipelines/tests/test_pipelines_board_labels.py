"""The board's cards show each list value's label beside its option id, from the pipelines service's copy
of list fields and dictionaries (kept from the entities service's events)."""

from __future__ import annotations

import uuid
from typing import Any
from typing import Any as PipelinesApi  # the `api` fixture of conftest.py

import pytest
from conveyor_contracts.entities import (
    DictionaryChanged,
    DictionaryCreated,
    FieldAdded,
    FieldChanged,
    FieldDefinition,
    Option,
)

pytestmark = pytest.mark.integration

NEW, WORK = Option(id="opt-new", label="New"), Option(id="opt-work", label="In work")
VIP, GOV = Option(id="opt-vip", label="VIP"), Option(id="opt-gov", label="Gov")


def list_field(code: str, **definition: Any) -> FieldDefinition:
    return FieldDefinition(field_id=f"f-{code}", code=code, label=code.title(), kind="list", **definition)


async def cards(api: PipelinesApi, pipeline_id: str) -> list[dict[str, Any]]:
    board = await api.client.get(f"/v1/pipelines/{pipeline_id}/board", headers=api.headers())
    assert board.status_code == 200, board.text
    return board.json()["columns"][0]["cards"]  # type: ignore[no-any-return]


class TestCardLabels:
    async def test_list_values_on_cards_come_with_their_labels_and_follow_renames(self, api: PipelinesApi) -> None:
        type_id = await api.entity_type()
        (pipeline,) = await api.pipelines(type_id)
        dictionary_id = f"dict-{uuid.uuid4().hex[:8]}"
        await api.publish(
            DictionaryCreated(
                dictionary_id=dictionary_id,
                code="industry",
                name="Industry",
                options=[Option(id="opt-h", label="Housing")],
            ),
            subject=dictionary_id,
        )
        for field in (
            list_field("status", options=[NEW, WORK]),
            list_field("tags", multiple=True, options=[VIP, GOV]),
            list_field("industry", dictionary_id=dictionary_id),
            FieldDefinition(field_id="f-region", code="region", label="Region", kind="string"),
        ):
            await api.publish(FieldAdded(entity_type_id=type_id, field=field), subject=type_id)
        await api.client.patch(
            f"/v1/pipelines/{pipeline['id']}",
            json={"card_fields": ["status", "tags", "industry", "region"]},
            headers=api.headers(),
        )
        await api.item(
            type_id,
            fields={"status": "opt-work", "tags": ["opt-gov", "opt-vip"], "industry": "opt-h", "region": "north"},
        )
        await api.item(type_id, fields={"region": "south"})

        shown = await api.eventually(
            lambda: cards(api, pipeline["id"]), lambda c: any(card["labels"].get("industry") for card in c)
        )
        renamed = FieldChanged(
            entity_type_id=type_id, field=list_field("status", options=[NEW, Option(id="opt-work", label="Working")])
        )
        await api.publish(renamed, subject=type_id)
        await api.publish(
            DictionaryChanged(
                dictionary_id=dictionary_id, name="Industry", options=[Option(id="opt-h", label="Utilities")]
            ),
            subject=dictionary_id,
        )
        after = await api.eventually(
            lambda: cards(api, pipeline["id"]),
            lambda c: (
                any(card["labels"].get("industry") == "Utilities" for card in c)
                and any(card["labels"].get("status") == "Working" for card in c)
            ),
        )

        labelled = next(card for card in shown if card["fields"]["region"] == "north")
        plain = next(card for card in shown if card["fields"]["region"] == "south")
        assert labelled["fields"] == {
            "status": "opt-work",
            "tags": ["opt-gov", "opt-vip"],
            "industry": "opt-h",
            "region": "north",
        }
        assert labelled["labels"] == {"status": "In work", "tags": ["Gov", "VIP"], "industry": "Housing"}
        assert plain["labels"] == {}
        assert next(card for card in after if card["fields"]["region"] == "north")["labels"] == {
            "status": "Working",
            "tags": ["Gov", "VIP"],
            "industry": "Utilities",
        }
