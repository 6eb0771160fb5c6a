"""Entity types, custom fields and dictionaries over HTTP."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.integration


class TestEntityTypes:
    async def test_create_change_list_and_archive(self, entities: Any) -> None:
        created = await entities.call(
            "POST", "/v1/entity-types", {"code": "company", "name": "Company", "settings": {"client_binding": True}}
        )
        type_id = created.json()["id"]
        duplicate = await entities.call("POST", "/v1/entity-types", {"code": "company", "name": "Again"})
        changed = await entities.call(
            "PATCH",
            f"/v1/entity-types/{type_id}",
            {"settings": {"automation_enabled": False}},
            headers={"If-Match": '"1"'},
        )
        stale = await entities.call("PATCH", f"/v1/entity-types/{type_id}", {"name": "X"}, headers={"If-Match": '"1"'})
        unconditional = await entities.call("PATCH", f"/v1/entity-types/{type_id}", {"name": "X"})
        archived = await entities.call("POST", f"/v1/entity-types/{type_id}/archive", headers={"If-Match": '"2"'})
        no_new_items = await entities.call("POST", "/v1/items", {"entity_type_id": type_id, "title": "t"})
        listed = await entities.ok("GET", "/v1/entity-types")
        with_archived = await entities.client.get("/v1/entity-types?archived=true", headers=entities.auth())

        assert created.status_code == 201 and created.json()["settings"]["client_binding"] is True
        assert created.headers["ETag"] == '"1"' and created.json()["fields"] == []
        assert created.json()["created_at"].endswith("Z") and "fields" not in changed.json()
        assert duplicate.status_code == 409
        assert changed.json()["settings"] == {**created.json()["settings"], "automation_enabled": False}
        assert changed.headers["ETag"] == '"2"' and stale.status_code == 412
        assert stale.json()["current_version"] == 2
        assert unconditional.status_code == 428 and unconditional.json()["type"].endswith("/precondition-required")
        assert archived.json()["archived"] is True and archived.headers["ETag"] == '"3"'
        assert no_new_items.status_code == 409
        assert listed == {"items": [], "next_cursor": None}
        assert [t["id"] for t in with_archived.json()["items"]] == [type_id]

    async def test_the_list_is_a_page_by_name_and_a_type_is_read_by_its_id_or_its_code(self, entities: Any) -> None:
        for code, name in (("b_type", "Bravo"), ("a_type", "Alpha"), ("c_type", "Charlie")):
            await entities.ok("POST", "/v1/entity-types", {"code": code, "name": name})

        first = await entities.ok("GET", "/v1/entity-types?limit=2")
        second = await entities.ok("GET", f"/v1/entity-types?limit=2&cursor={first['next_cursor']}")
        forged = await entities.call("GET", "/v1/entity-types?cursor=bm9wZQ")
        by_code = await entities.call("GET", "/v1/entity-types/b_type")
        by_id = await entities.call("GET", f"/v1/entity-types/{by_code.json()['id']}")
        unknown = await entities.call("GET", "/v1/entity-types/no_such_type")

        assert [t["name"] for t in first["items"]] == ["Alpha", "Bravo"] and first["next_cursor"]
        assert [t["name"] for t in second["items"]] == ["Charlie"] and second["next_cursor"] is None
        assert forged.status_code == 422
        assert by_code.status_code == 200 and by_code.json() == by_id.json()
        assert by_code.headers["ETag"] == '"1"'
        assert unknown.status_code == 404

    async def test_only_admins_define_types_and_other_tenants_see_none(self, entities: Any) -> None:
        company = await entities.entity_type()

        refused = await entities.call("POST", "/v1/entity-types", {"code": "x", "name": "X"}, roles=("manager",))
        unknown_setting = await entities.call(
            "POST", "/v1/entity-types", {"code": "y", "name": "Y", "settings": {"colour": 1}}
        )
        elsewhere = await entities.call("GET", f"/v1/entity-types/{company['id']}", tenant="other-tenant")

        assert refused.status_code == 403
        assert unknown_setting.status_code == 422
        assert elsewhere.status_code == 404


class TestFields:
    async def test_a_removed_field_hides_its_values_and_brings_them_back(self, entities: Any) -> None:
        company = await entities.entity_type([{"code": "contact", "label": "Contact", "kind": "string"}])
        field_id = company["fields"][0]["id"]
        item = await entities.item(company["id"], fields={"contact": "Ivan"})
        path = f"/v1/entity-types/{company['id']}/fields/{field_id}"

        unconditional = await entities.call("DELETE", path)
        removed = await entities.call("DELETE", path, headers={"If-Match": f'"{company["version"]}"'})
        while_hidden = await entities.ok("GET", f"/v1/items/{item['id']}")
        write_hidden = await entities.call(
            "PATCH", f"/v1/items/{item['id']}", {"fields": {"contact": "x"}}, headers={"If-Match": '"1"'}
        )
        stale = await entities.call("POST", f"{path}/restore", headers={"If-Match": f'"{company["version"]}"'})
        await entities.ok("POST", f"{path}/restore", headers={"If-Match": removed.headers["ETag"]})
        after = await entities.ok("GET", f"/v1/items/{item['id']}")

        assert unconditional.status_code == 428 and stale.status_code == 412
        assert removed.json()["id"] == field_id and removed.json()["hidden"] is True
        assert removed.headers["ETag"] == f'"{company["version"] + 1}"'
        assert while_hidden["fields"] == {}
        assert write_hidden.status_code == 422 and write_hidden.json()["errors"][0]["field"] == "/fields/contact"
        assert after["fields"] == {"contact": "Ivan"}

    async def test_a_field_keeps_its_kind_and_its_options_keep_their_ids(self, entities: Any) -> None:
        company = await entities.entity_type(
            [
                {
                    "code": "status",
                    "label": "Status",
                    "kind": "list",
                    "options": [{"label": "Imported"}, {"label": "Lost"}],
                }
            ]
        )
        field = company["fields"][0]
        imported, lost = field["options"]
        item = await entities.item(company["id"], fields={"status": "Lost"})
        path = f"/v1/entity-types/{company['id']}/fields/{field['id']}"
        read = {"If-Match": f'"{company["version"]}"'}

        kind_change = await entities.call("PATCH", path, {"kind": "string"}, headers=read)
        changed = await entities.ok(
            "PATCH",
            path,
            {"options": [{"id": imported["id"], "label": "Imported (CSV)"}, {"label": "Won"}]},
            headers=read,
        )
        still = await entities.ok("GET", f"/v1/items/{item['id']}")
        refused = await entities.call(
            "POST", "/v1/items", {"entity_type_id": company["id"], "title": "t", "fields": {"status": "Lost"}}
        )

        assert kind_change.status_code == 422
        assert [o["label"] for o in changed["options"]] == ["Imported (CSV)", "Won", "Lost"]
        assert changed["options"][0]["id"] == imported["id"] and changed["options"][2] == {**lost, "hidden": True}
        assert still["fields"]["status"] == lost["id"]
        assert refused.status_code == 422

    async def test_every_kind_can_be_defined_and_bad_definitions_are_refused(self, entities: Any) -> None:
        company = await entities.entity_type()
        path = f"/v1/entity-types/{company['id']}/fields"
        kinds = [
            "string",
            "text",
            "integer",
            "decimal",
            "money",
            "boolean",
            "date",
            "datetime",
            "user",
            "url",
            "email",
            "phone",
        ]
        for kind in kinds:
            added = await entities.call("POST", path, {"code": f"f_{kind}", "label": kind, "kind": kind})
            assert added.status_code == 201 and added.json()["kind"] == kind
        assert added.headers["ETag"] == f'"{1 + len(kinds)}"'  # each field moves the type's version
        await entities.ok(
            "POST", path, {"code": "parent", "label": "Parent", "kind": "link", "link_entity_type_id": company["id"]}
        )

        no_options = await entities.call("POST", path, {"code": "l", "label": "L", "kind": "list"})
        bad_rule = await entities.call(
            "POST", path, {"code": "n", "label": "N", "kind": "integer", "validation": {"min": "x"}}
        )
        bad_code = await entities.call("POST", path, {"code": "Bad Code", "label": "B", "kind": "string"})
        same_code = await entities.call("POST", path, {"code": "f_text", "label": "Again", "kind": "text"})

        assert len((await entities.ok("GET", f"/v1/entity-types/{company['id']}"))["fields"]) == len(kinds) + 1
        assert [r.status_code for r in (no_options, bad_rule, bad_code, same_code)] == [422, 422, 422, 409]

    async def test_a_link_must_name_an_item_of_the_linked_type(self, entities: Any) -> None:
        deal = await entities.entity_type()
        line = await entities.entity_type(
            [{"code": "deal", "label": "Deal", "kind": "link", "link_entity_type_id": deal["id"]}]
        )
        a_deal = await entities.item(deal["id"])
        a_line = await entities.item(line["id"], fields={"deal": a_deal["id"]})

        wrong = await entities.call(
            "POST", "/v1/items", {"entity_type_id": line["id"], "title": "t", "fields": {"deal": a_line["id"]}}
        )
        missing = await entities.call(
            "POST", "/v1/items", {"entity_type_id": line["id"], "title": "t", "fields": {"deal": "nope"}}
        )

        assert a_line["fields"] == {"deal": a_deal["id"]}
        assert wrong.status_code == 422 and missing.status_code == 422
        assert missing.json()["errors"][0]["field"] == "/fields/deal"


class TestDictionaries:
    async def test_a_list_field_takes_its_options_from_a_dictionary(self, entities: Any) -> None:
        industry = await entities.ok(
            "POST",
            "/v1/dictionaries",
            {
                "code": "industry",
                "name": "Industry",
                "options": [{"label": "Housing & utilities"}, {"label": "Retail"}],
            },
        )
        company = await entities.entity_type(
            [{"code": "industry", "label": "Industry", "kind": "list", "dictionary_id": industry["id"]}]
        )
        housing = industry["options"][0]["id"]

        item = await entities.item(company["id"], fields={"industry": "Housing & utilities"})
        unconditional = await entities.call("PATCH", f"/v1/dictionaries/{industry['id']}", {"name": "Sector"})
        renamed = await entities.ok(
            "PATCH",
            f"/v1/dictionaries/{industry['id']}",
            {"options": [{"id": housing, "label": "ЖКХ"}, {"label": "Energy"}]},
            headers={"If-Match": '"1"'},
        )
        stale = await entities.call(
            "PATCH", f"/v1/dictionaries/{industry['id']}", {"name": "Sector"}, headers={"If-Match": '"1"'}
        )
        by_new_label = await entities.item(company["id"], fields={"industry": "ЖКХ"})
        retired = await entities.call(
            "POST", "/v1/items", {"entity_type_id": company["id"], "title": "t", "fields": {"industry": "Retail"}}
        )
        elsewhere = await entities.call("GET", f"/v1/dictionaries/{industry['id']}", tenant="other-tenant")
        listed = await entities.ok("GET", "/v1/dictionaries")

        assert unconditional.status_code == 428 and stale.status_code == 412
        assert listed == {"items": [renamed], "next_cursor": None}
        assert item["fields"] == {"industry": housing} == by_new_label["fields"]
        assert [o["label"] for o in renamed["options"] if not o["hidden"]] == ["ЖКХ", "Energy"]
        assert retired.status_code == 422
        assert elsewhere.status_code == 404
