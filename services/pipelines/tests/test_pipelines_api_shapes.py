"""The bodies the routes answer, as their response models declare them: every key, instants in UTC with `Z`,
a history that outlives its stage, empty 204s, and the OpenAPI documenting each 2xx body."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from typing import Any as PipelinesApi  # the `api` fixture of conftest.py

import pytest
from pipelines.entrypoints.http import create

pytestmark = pytest.mark.integration


def _utc_z(value: str) -> datetime:
    assert value.endswith("Z"), value
    moment = datetime.fromisoformat(value)
    assert moment.utcoffset() == timedelta(0)
    return moment


async def test_a_placement_its_card_and_its_history_write_every_instant_in_utc_with_z(api: PipelinesApi) -> None:
    type_id = await api.entity_type()
    (pipeline,) = await api.pipelines(type_id)
    new, in_progress = pipeline["stages"][0]["id"], pipeline["stages"][1]["id"]
    item = await api.item(type_id, fields={"region": "north"})
    await api.client.patch(f"/v1/pipelines/{pipeline['id']}", json={"card_fields": ["region"]}, headers=api.headers())

    moved = await api.client.post(
        f"/v1/placements/{item['item_id']}/move",
        json={"to_stage_id": in_progress},
        headers={**api.headers(), "If-Match": '"1"'},
    )
    board = await api.client.get(f"/v1/pipelines/{pipeline['id']}/board", headers=api.headers())
    history = await api.client.get(f"/v1/placements/{item['item_id']}/stage-history", headers=api.headers())

    assert set(item) == {
        "item_id", "entity_type_id", "pipeline_id", "stage_id", "title", "assignee_id", "amount", "currency",
        "version", "updated_at",
    }  # fmt: skip
    _utc_z(item["updated_at"])
    assert moved.status_code == 200 and moved.headers["ETag"] == '"2"'
    _utc_z(moved.json()["updated_at"])
    (card,) = next(c for c in board.json()["columns"] if c["stage"]["id"] == in_progress)["cards"]
    assert card["fields"] == {"region": "north"}
    _utc_z(card["updated_at"])
    first, second = history.json()["visits"]
    assert (first["stage_id"], second["stage_id"], second["left_at"]) == (new, in_progress, None)
    assert _utc_z(first["left_at"]) == _utc_z(second["entered_at"])
    _utc_z(first["entered_at"])


async def test_the_history_keeps_a_visit_to_a_deleted_stage_without_its_name(api: PipelinesApi) -> None:
    type_id = await api.entity_type()
    (pipeline,) = await api.pipelines(type_id)
    new, in_progress = pipeline["stages"][0]["id"], pipeline["stages"][1]["id"]
    item = await api.item(type_id)

    deleted = await api.client.delete(
        f"/v1/pipelines/{pipeline['id']}/stages/{new}",
        params={"move_items_to": in_progress},
        headers=api.headers(),
    )
    history = await api.client.get(f"/v1/placements/{item['item_id']}/stage-history", headers=api.headers())

    assert (deleted.status_code, deleted.content) == (204, b"")
    assert history.status_code == 200, history.text
    gone, current = history.json()["visits"]
    assert (gone["stage_id"], gone["stage_name"], gone["semantic"]) == (new, None, None)
    assert (current["stage_name"], current["left_at"]) == ("In progress", None)


async def test_tunnels_answer_their_keys_and_an_empty_204(api: PipelinesApi) -> None:
    type_id = await api.entity_type(code="deal")
    (pipeline,) = await api.pipelines(type_id)
    won, lost = pipeline["stages"][2]["id"], pipeline["stages"][3]["id"]

    created = await api.client.post(
        "/v1/tunnels", json={"from_stage_id": won, "to_stage_id": lost}, headers=api.headers()
    )
    listed = await api.client.get("/v1/tunnels", params={"entity_type_id": type_id}, headers=api.headers())
    by_code = await api.client.get("/v1/tunnels", params={"entity_type_id": "deal"}, headers=api.headers())
    pipelines_by_code = await api.client.get("/v1/pipelines", params={"entity_type_id": "deal"}, headers=api.headers())
    removed = await api.client.delete(f"/v1/tunnels/{created.json()['id']}", headers=api.headers())

    assert created.status_code == 201, created.text
    assert listed.json() == by_code.json() == {"items": [created.json()], "next_cursor": None}
    assert pipelines_by_code.json() == {"items": [pipeline], "next_cursor": None}
    assert created.json() == {
        "id": created.json()["id"],
        "entity_type_id": type_id,
        "from_pipeline_id": pipeline["id"],
        "from_stage_id": won,
        "to_pipeline_id": pipeline["id"],
        "to_stage_id": lost,
        "action": "move",
    }
    assert (removed.status_code, removed.content) == (204, b"")


async def test_pipelines_and_tunnels_come_in_pages_after_a_cursor(api: PipelinesApi) -> None:
    type_id = await api.entity_type()
    for name in ("Wholesale", "Retail"):
        created = await api.client.post(
            "/v1/pipelines", json={"entity_type_id": type_id, "name": name}, headers=api.headers()
        )
        assert created.status_code == 201, created.text
    every = await api.pipelines(type_id)
    (won, lost), new = [s["id"] for s in every[0]["stages"][2:]], every[1]["stages"][0]["id"]
    for to in (lost, new):
        await api.client.post("/v1/tunnels", json={"from_stage_id": won, "to_stage_id": to}, headers=api.headers())

    seen: dict[str, list[str]] = {"/v1/pipelines": [], "/v1/tunnels": []}
    for path, ids in seen.items():
        cursor = None
        while True:
            params = {"entity_type_id": type_id, "limit": 1} | ({"cursor": cursor} if cursor else {})
            page = (await api.client.get(path, params=params, headers=api.headers())).json()
            ids += [found["id"] for found in page["items"]]
            if (cursor := page["next_cursor"]) is None:
                break
    stale = await api.client.get(
        "/v1/pipelines", params={"entity_type_id": type_id, "cursor": "bm90IGEgY3Vyc29y"}, headers=api.headers()
    )

    assert seen["/v1/pipelines"] == [p["id"] for p in every] and len(every) == 3
    assert len(seen["/v1/tunnels"]) == 2 and seen["/v1/tunnels"] == sorted(seen["/v1/tunnels"])
    assert (stale.status_code, stale.json()["type"].rsplit("/", 1)[1]) == (422, "invalid-cursor")


async def test_a_type_the_service_has_not_heard_of_is_a_404_not_an_empty_list(api: PipelinesApi) -> None:
    await api.entity_type(code="deal")

    answers = [
        await api.client.get(path, params={"entity_type_id": "no-such-type"}, headers=api.headers())
        for path in ("/v1/pipelines", "/v1/tunnels")
    ]

    for answer in answers:
        assert answer.status_code == 404, answer.text
        assert answer.headers["content-type"] == "application/problem+json"
        assert (answer.json()["type"].rsplit("/", 1)[1], answer.json()["title"]) == (
            "unknown-entity-type",
            "Unknown entity type",
        )


async def test_an_item_is_not_found_under_the_entities_services_path(api: PipelinesApi) -> None:
    type_id = await api.entity_type()
    item = await api.item(type_id)

    old = await api.client.get(f"/v1/items/{item['item_id']}", headers=api.headers())

    assert old.status_code == 404


def test_every_route_documents_its_2xx_body() -> None:
    document: dict[str, Any] = create().openapi()
    untyped = []
    for path, operations in document["paths"].items():
        if path.startswith("/health/"):
            continue
        for method, operation in operations.items():
            for status, answer in operation["responses"].items():
                if not status.startswith("2") or status == "204":
                    continue
                schema = answer["content"]["application/json"]["schema"]
                if "$ref" not in schema and "$ref" not in schema.get("items", {}):
                    untyped.append(f"{method.upper()} {path}")
    assert untyped == []
    schemas = document["components"]["schemas"]
    for name in ("Pipeline", "PipelineBoard", "ItemPlacement", "ItemStageHistory", "Tunnel"):
        assert schemas[name]["examples"], name
    assert schemas["ItemPlacement"]["properties"]["updated_at"]["format"] == "date-time"
