"""An item's history: read as of any time or date (with its placement then), one field's values over
time, and list values with their labels wherever an item is shown."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conveyor_contracts.pipelines import ItemMovedToStage, ItemPlaced

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
STATUS = {
    "code": "status",
    "label": "Status",
    "kind": "list",
    "options": [{"label": "New"}, {"label": "In work"}, {"label": "Done"}],
}
TAGS = {
    "code": "tags",
    "label": "Tags",
    "kind": "list",
    "multiple": True,
    "options": [{"label": "VIP"}, {"label": "Gov"}],
}
NOTE = {"code": "note", "label": "Note", "kind": "string"}


async def read(entities: Any, item_id: str, **params: Any) -> Any:
    return await entities.client.get(f"/v1/items/{item_id}", params=params, headers=entities.auth())


async def patch(entities: Any, item: dict[str, Any], version: int, body: dict[str, Any], **auth: Any) -> Any:
    return await entities.ok("PATCH", f"/v1/items/{item['id']}", body, headers={"If-Match": f'"{version}"'}, **auth)


def option(entity_type: dict[str, Any], code: str, label: str) -> str:
    field = next(f for f in entity_type["fields"] if f["code"] == code)
    return str(next(o["id"] for o in field["options"] if o["label"] == label))


def moved(item: dict[str, Any], frm: tuple[str, str], to: tuple[str, str], at: datetime) -> ItemMovedToStage:
    return ItemMovedToStage(
        item_id=item["id"],
        entity_type_id=item["entity_type_id"],
        from_pipeline_id="p-sales",
        from_stage_id=frm[0],
        from_semantic=frm[1],
        to_pipeline_id="p-sales",
        to_stage_id=to[0],
        to_semantic=to[1],
        moved_at=at,
    )


async def placed_and_moved_twice(entities: Any) -> dict[str, Any]:
    """An item created at T0, placed on s-new a second later, moved to s-work at +10 min and s-won at
    +20 min; its title changed at +15 min (version 2)."""
    entities.app.state.clock.set(T0)
    deal = await entities.entity_type()
    item: dict[str, Any] = await entities.item(deal["id"], title="First", pipeline_id="p-sales")
    placed = ItemPlaced(
        item_id=item["id"],
        entity_type_id=deal["id"],
        pipeline_id="p-sales",
        stage_id="s-new",
        stage_semantic="in_progress",
    )
    await entities.publish(placed, subject=item["id"], version=1, at=T0 + timedelta(seconds=1))
    new, work, won = ("s-new", "in_progress"), ("s-work", "in_progress"), ("s-won", "success")
    await entities.publish(moved(item, new, work, T0 + timedelta(minutes=10)), subject=item["id"], version=2)
    await entities.publish(moved(item, work, won, T0 + timedelta(minutes=20)), subject=item["id"], version=3)
    entities.app.state.clock.set(T0 + timedelta(minutes=15))
    await patch(entities, item, 1, {"title": "Second"})
    await entities.eventually(lambda: read(entities, item["id"]), lambda r: r.json()["stage_id"] == "s-won")
    return item


def where(response: Any) -> tuple[Any, ...]:
    body = response.json()
    return body["title"], body["pipeline_id"], body["stage_id"], body["stage_semantic"]


class TestAsOf:
    async def test_the_item_as_of_a_time_between_two_moves_stands_where_it_stood_then(self, entities: Any) -> None:
        item = await placed_and_moved_twice(entities)

        at_creation = await read(entities, item["id"], as_of=T0.isoformat())
        on_first_stage = await read(entities, item["id"], as_of="2026-03-10T09:05:00Z")
        between_moves = await read(entities, item["id"], as_of="2026-03-10T12:17:00+03:00")
        after_both = await read(entities, item["id"], as_of="2026-03-10T09:30:00.123456789Z")

        assert where(at_creation) == ("First", None, None, None)  # created, not yet placed
        assert where(on_first_stage) == ("First", "p-sales", "s-new", "in_progress")
        assert where(between_moves) == ("Second", "p-sales", "s-work", "in_progress")
        assert where(after_both) == ("Second", "p-sales", "s-won", "success")

    async def test_a_version_stands_where_the_item_was_until_its_next_version(self, entities: Any) -> None:
        item = await placed_and_moved_twice(entities)

        first = await read(entities, item["id"], version=1)
        current = await read(entities, item["id"], version=2)

        assert where(first) == ("First", "p-sales", "s-work", "in_progress")  # version 2 came at +15 min
        assert where(current) == ("Second", "p-sales", "s-won", "success")

    async def test_a_time_without_a_zone_is_read_in_utc_or_in_the_zone_named(self, entities: Any) -> None:
        item = await placed_and_moved_twice(entities)

        utc = await read(entities, item["id"], as_of="2026-03-10T09:12:00")
        moscow = await read(entities, item["id"], as_of="2026-03-10T12:12", tz="Europe/Moscow")
        with_space = await read(entities, item["id"], as_of="2026-03-10 09:25:00")

        assert where(utc) == ("First", "p-sales", "s-work", "in_progress")
        assert where(moscow) == where(utc)
        assert where(with_space)[2] == "s-won"

    async def test_a_date_is_the_end_of_that_day(self, entities: Any) -> None:
        item = await placed_and_moved_twice(entities)

        that_day = await read(entities, item["id"], as_of="2026-03-10")
        the_day_before = await read(entities, item["id"], as_of="2026-03-09")
        # T0 is 22:00 on the 10th in Auckland: the end of the 10th there (11:00 UTC) saw every move, the
        # end of the 9th there (11:00 UTC on the 9th) was before the item existed.
        that_day_in_auckland = await read(entities, item["id"], as_of="2026-03-10", tz="Pacific/Auckland")

        assert where(that_day) == ("Second", "p-sales", "s-won", "success")
        assert the_day_before.status_code == 404
        assert where(that_day_in_auckland) == ("Second", "p-sales", "s-won", "success")
        assert (await read(entities, item["id"], as_of="2026-03-09", tz="Pacific/Auckland")).status_code == 404

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"as_of": "yesterday"}, "/query/as_of"),
            ({"as_of": "2026-02-30"}, "/query/as_of"),
            ({"as_of": "2026-03-10T25:00:00Z"}, "/query/as_of"),
            ({"as_of": "2026-W11-2"}, "/query/as_of"),
            ({"as_of": "2026-03-10T09:00", "tz": "Mars/Olympus"}, "/query/tz"),
        ],
    )
    async def test_a_bad_as_of_is_a_422_naming_it(self, entities: Any, params: dict[str, str], field: str) -> None:
        deal = await entities.entity_type()
        item = await entities.item(deal["id"])

        response = await read(entities, item["id"], **params)

        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in response.json()["errors"]] == [field]


class TestFieldHistory:
    async def test_each_value_a_field_had_with_who_and_when_newest_first(self, entities: Any) -> None:
        entities.app.state.clock.set(T0)
        company = await entities.entity_type([STATUS, NOTE])
        item = await entities.item(company["id"], fields={"status": "New"})
        entities.app.state.clock.advance(60)
        await patch(entities, item, 1, {"fields": {"status": "In work"}}, user="manager-7")
        await patch(entities, item, 2, {"fields": {"note": "called"}})  # another field: not in the history
        entities.app.state.clock.advance(60)
        await patch(entities, item, 3, {"fields": {"status": None}}, user="manager-8")
        await patch(entities, item, 4, {"fields": {"status": "Done"}})

        history = await entities.ok("GET", f"/v1/items/{item['id']}/fields/status/history")

        values = [(h["version"], h["event"], h["value"], h["label"], h["actor"]["id"]) for h in history["items"]]
        assert values == [
            (5, "changed", option(company, "status", "Done"), "Done", "admin-1"),
            (4, "changed", None, None, "manager-8"),
            (2, "changed", option(company, "status", "In work"), "In work", "manager-7"),
            (1, "created", option(company, "status", "New"), "New", "admin-1"),
        ]
        assert [h["at"] for h in history["items"]][-2:] == ["2026-03-10T09:01:00Z", "2026-03-10T09:00:00Z"]
        assert history["next_cursor"] is None

    async def test_the_history_comes_in_pages_and_names_the_field_by_code_or_id(self, entities: Any) -> None:
        company = await entities.entity_type([NOTE])
        item = await entities.item(company["id"], fields={"note": "v1"})
        for version in range(1, 5):
            await patch(entities, item, version, {"fields": {"note": f"v{version + 1}"}})

        note_id = company["fields"][0]["id"]
        first = await entities.ok("GET", f"/v1/items/{item['id']}/fields/{note_id}/history?limit=3")
        rest = await entities.ok(
            "GET", f"/v1/items/{item['id']}/fields/note/history?limit=3&cursor={first['next_cursor']}"
        )

        assert [h["value"] for h in first["items"]] == ["v5", "v4", "v3"]
        assert [h["value"] for h in rest["items"]] == ["v2", "v1"] and rest["next_cursor"] is None
        assert [h["label"] for h in first["items"]] == [None, None, None]

    async def test_an_unknown_field_or_cursor_is_refused(self, entities: Any) -> None:
        company = await entities.entity_type([NOTE])
        item = await entities.item(company["id"])

        unknown = await entities.call("GET", f"/v1/items/{item['id']}/fields/nope/history")
        no_item = await entities.call("GET", f"/v1/items/{uuid.uuid4()}/fields/note/history")
        bad_cursor = await entities.call("GET", f"/v1/items/{item['id']}/fields/note/history?cursor=WyJ4Il0")
        outsider = await entities.call(
            "GET", f"/v1/items/{item['id']}/fields/note/history", tenant=f"other-{uuid.uuid4().hex[:6]}"
        )

        assert (unknown.status_code, no_item.status_code, outsider.status_code) == (404, 404, 404)
        assert bad_cursor.status_code == 422 and bad_cursor.json()["type"].endswith("invalid-cursor")


class TestLabels:
    async def test_list_values_come_with_their_labels_on_the_item_the_list_and_the_timeline(
        self, entities: Any
    ) -> None:
        industry = await entities.ok(
            "POST",
            "/v1/dictionaries",
            {
                "code": f"ind_{uuid.uuid4().hex[:6]}",
                "name": "Industry",
                "options": [{"label": "Housing"}, {"label": "Retail"}],
            },
        )
        company = await entities.entity_type(
            [
                STATUS,
                TAGS,
                NOTE,
                {"code": "industry", "label": "Industry", "kind": "list", "dictionary_id": industry["id"]},
            ]
        )
        item = await entities.item(
            company["id"], fields={"status": "New", "tags": ["Gov", "VIP"], "industry": "Housing", "note": "x"}
        )
        await patch(entities, item, 1, {"fields": {"status": "Done"}})

        current = (await read(entities, item["id"])).json()
        first_version = (await read(entities, item["id"], version=1)).json()
        listed = await entities.ok("GET", f"/v1/items?entity_type_id={company['id']}")
        timeline = await entities.ok("GET", f"/v1/items/{item['id']}/timeline")

        assert current["labels"] == {"status": "Done", "tags": ["Gov", "VIP"], "industry": "Housing"}
        assert current["fields"]["status"] == option(company, "status", "Done")  # the raw id stays
        assert first_version["labels"]["status"] == "New"
        assert listed["items"][0]["labels"] == current["labels"]
        created, changed = timeline["entries"]
        by_field = {c["field"]: c for c in created["changes"]}
        assert by_field["fields.tags"]["new_label"] == ["Gov", "VIP"]
        assert by_field["fields.note"]["new_label"] is None
        assert changed["changes"] == [
            {
                "field": "fields.status",
                "old": option(company, "status", "New"),
                "new": option(company, "status", "Done"),
                "old_label": "New",
                "new_label": "Done",
            }
        ]
