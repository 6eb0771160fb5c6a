"""Time per value of a list field (housing onboarding, step 7: how many companies are at each status and how
long they spent there), the entities events delivered through Kafka, every figure counted by hand.

Status options imp / prog / meet; c1, c3 belong to manager-1, c2 and c4 to manager-2; all created at 0h as imp.

    c1  imp 0h-1h, prog 1h-3h, meet from 3h (open)
    c2  imp 0h-2h, prog 2h-2h30, imp from 2h30 (open; the two changes travel in one fetch)
    c3  imp 0h-4h, then the status is cleared
    c4  imp from 0h, binned at 1h: neither counted nor current

Now is 5h. imp: 1h, 2h, 2h30 (open), 4h = 4 visits, 34,200 s, mean 8,550, median 8,100, p90 12,780;
prog: 2h, 30m = 9,000 s, median 4,500, p90 6,660; meet: 2h (open). Current: imp 1 (c2), meet 1 (c1).
The items come before the type's field definitions: "contact" is followed until its definition says it is a
string, then its visits are dropped. Visits carry their item's assignee and bin mark, kept as the items change.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from conveyor_access import OPERATOR_ROLE as OPERATOR
from conveyor_contracts import directory, entities
from conveyor_kit.clock import ControllableClock
from reporting.adapters import analytics_fields

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
STATUS = [("imp", "Imported"), ("prog", "In progress"), ("meet", "Meeting set")]


def field(code: str, kind: str, options: list[tuple[str, str]] | None = None) -> entities.FieldDefinition:
    return entities.FieldDefinition(
        field_id=f"f-{code}",
        code=code,
        label=code.title(),
        kind=kind,
        options=[entities.Option(id=i, label=label) for i, label in options] if options else None,
    )


async def tell_story(api: Any) -> dict[str, str]:
    t = api.tenant
    ids = {k: f"{k}-{t}" for k in ("company", "c1", "c2", "c3", "c4")}
    company = ids["company"]
    await api.publish(
        entities.EntityTypeCreated(entity_type_id=company, code="company", name="Company", settings={}), subject=company
    )
    await api.publish(
        directory.RoleGrantsSet(role="manager", entity_type_id=company, actions={"read": "own"}),
        subject=f"role-manager-{t}",
    )
    owners = {"c1": "manager-1", "c2": "manager-2", "c3": "manager-1", "c4": "manager-2"}
    for key, assignee in owners.items():
        await api.publish(
            entities.ItemCreated(
                item_id=ids[key],
                entity_type_id=company,
                title=key,
                assignee_id=assignee,
                fields={"status": "imp", "contact": f"Contact of {key}"},
                created_by="admin-1",
            ),
            subject=ids[key],
            at=T0,
        )
    await api.producer.flush()
    # before their definitions both fields are followed
    await api.report("/v1/reports/field-time", lambda r: visits(r) == 4, entity_type_id=company, field="contact")
    for definition in (field("status", "list", STATUS), field("contact", "string")):
        await api.publish(entities.FieldAdded(entity_type_id=company, field=definition), subject=company)
    await api.producer.flush()
    await api.report("/v1/reports/field-time", lambda r: visits(r) == 0, entity_type_id=company, field="contact")

    def change(key: str, at: timedelta, **fields: Any) -> Any:
        changes = {f"fields.{code}": {"old": None, "new": value} for code, value in fields.items()}
        event = entities.ItemUpdated(item_id=ids[key], entity_type_id=company, changes=changes, updated_by="m")
        return api.publish(event, subject=ids[key], at=T0 + at, version=2)

    await change("c1", H, status="prog", contact="Ann")
    await change("c1", 3 * H, status="meet")
    await change("c2", 2 * H, status="prog")
    await change("c2", 2.5 * H, status="imp")
    await change("c3", 4 * H, status=None)
    await api.publish(entities.ItemDeleted(item_id=ids["c4"], entity_type_id=company), subject=ids["c4"], at=T0 + H)
    await api.producer.flush()
    api.app.state.clock = ControllableClock(T0 + 5 * H)
    await api.report(
        "/v1/reports/field-time",
        lambda r: [v["visits"] for v in r["values"]] == [4, 1, 2],
        entity_type_id=company,
        field="status",
    )
    return ids


async def field_time(api: Any, params: dict[str, str], headers: dict[str, str] | None = None) -> Any:
    """The response to ``params``, asked by the admin unless ``headers`` say otherwise."""
    return await api.client.get("/v1/reports/field-time", params=params, headers=headers or api.headers())


def visits(report: dict[str, Any]) -> int:
    return sum(v["visits"] for v in report["values"])


def counted(report: dict[str, Any]) -> list[tuple[str, int, int, float]]:
    """Per value: items holding it now, visits and total seconds (exact whether or not the report is)."""
    return [(v["value"], v["current_items"], v["visits"], v["total_seconds"]) for v in report["values"]]


def figures(value: str, current: int, n: int, total: float, mean: float, median: float, p90: float) -> dict[str, Any]:
    return {
        "value": value,
        "current_items": current,
        "visits": n,
        "total_seconds": total,
        "mean_seconds": mean,
        "median_seconds": median,
        "p90_seconds": p90,
    }


class TestFieldTime:
    async def test_items_per_value_now_and_the_time_they_held_it_equal_a_hand_count(self, api: Any) -> None:
        ids = await tell_story(api)

        response = await field_time(api, {"entity_type_id": ids["company"], "field": "status"})

        assert response.status_code == 200
        report = response.json()
        assert report["values"] == [
            figures("imp", 1, 4, 34200.0, 8550.0, 8100.0, 12780.0),
            figures("meet", 1, 1, 7200.0, 7200.0, 7200.0, 7200.0),
            figures("prog", 0, 2, 9000.0, 4500.0, 4500.0, 6660.0),
        ]
        assert report["labels"] == {"imp": "Imported", "meet": "Meeting set", "prog": "In progress"}
        assert report["period"] == {"from": None, "to": None} and report["exact"] is True

    async def test_the_first_path_under_v1_analytics_answers_the_same_and_is_marked_deprecated(self, api: Any) -> None:
        ids = await tell_story(api)
        params = {"entity_type_id": ids["company"], "field": "status"}

        report = await field_time(api, params)
        legacy = await api.client.get("/v1/analytics/field-time", params=params, headers=api.headers())
        paths = (await api.client.get("/v1/openapi.json")).json()["paths"]

        assert legacy.status_code == 200 and legacy.json() == report.json()
        for name in ("field-time", "process-steps"):
            assert paths[f"/v1/analytics/{name}"]["get"].get("deprecated") is True
            assert not paths[f"/v1/reports/{name}"]["get"].get("deprecated")

    async def test_a_manager_sees_their_own_items_and_a_period_counts_the_visits_begun_in_it(self, api: Any) -> None:
        ids = await tell_story(api)
        params = {"entity_type_id": ids["company"], "field": "status"}

        mine = (await field_time(api, params, api.headers("manager-2", ("manager",)))).json()
        next_day = (await field_time(api, {**params, "from": "2026-03-03"})).json()
        backwards = await field_time(api, {**params, "from": "2026-03-03", "to": "2026-03-02"})
        contact = (await field_time(api, {**params, "field": "contact"})).json()

        assert mine["values"] == [
            figures("imp", 1, 2, 16200.0, 8100.0, 8100.0, 8820.0),
            figures("prog", 0, 1, 1800.0, 1800.0, 1800.0, 1800.0),
        ]
        assert [(v["value"], v["current_items"], v["visits"], v["median_seconds"]) for v in next_day["values"]] == [
            ("imp", 1, 0, None),
            ("meet", 1, 0, None),
        ]
        assert backwards.status_code == 422
        assert backwards.headers["content-type"].startswith("application/problem+json")
        assert contact["values"] == []  # a string field is not followed once its definition is known

    async def test_a_reassigned_item_takes_its_visits_to_its_new_assignee(self, api: Any) -> None:
        ids = await tell_story(api)
        params = {"entity_type_id": ids["company"], "field": "status"}
        reassigned = entities.ItemUpdated(
            item_id=ids["c1"],
            entity_type_id=ids["company"],
            changes={"assignee_id": {"old": "manager-1", "new": "manager-2"}},
        )

        await api.publish(reassigned, subject=ids["c1"], at=T0 + 5 * H, version=3)
        theirs = await api.report(
            "/v1/reports/field-time",
            lambda r: "meet" in [v["value"] for v in r["values"]],
            _headers=api.headers("manager-2", ("manager",)),
            **params,
        )
        mine = (await field_time(api, params, api.headers("manager-1", ("manager",)))).json()

        assert [(v["value"], v["current_items"], v["visits"], v["total_seconds"]) for v in theirs["values"]] == [
            ("imp", 1, 3, 19800.0),
            ("meet", 1, 1, 7200.0),
            ("prog", 0, 2, 9000.0),
        ]
        assert [(v["value"], v["current_items"], v["visits"], v["total_seconds"]) for v in mine["values"]] == [
            ("imp", 0, 1, 14400.0),
        ]

    async def test_over_the_exact_limit_median_and_p90_come_from_duration_buckets(
        self, api: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ids = await tell_story(api)
        params = {"entity_type_id": ids["company"], "field": "status"}
        exact = (await field_time(api, params)).json()
        monkeypatch.setattr(analytics_fields, "EXACT_VISITS", 0)

        bucketed = (await field_time(api, params)).json()

        assert (exact["exact"], bucketed["exact"]) == (True, False)
        for row, estimate in zip(exact["values"], bucketed["values"], strict=True):
            assert {k: estimate[k] for k in ("value", "current_items", "visits")} == {
                k: row[k] for k in ("value", "current_items", "visits")
            }
            for figure in ("total_seconds", "mean_seconds"):
                assert estimate[figure] == pytest.approx(row[figure])
            for figure in ("median_seconds", "p90_seconds"):
                assert estimate[figure] == pytest.approx(row[figure], rel=0.05)

    @pytest.mark.parametrize(
        "period",
        [
            {"from": "2026-02-15", "to": "2026-04-10"},  # March, the story's month, read from field_durations
            {"from": "2026-03-02"},  # March before the first whole month: from the visits
            {"to": "2026-03-02"},  # March after the last whole month: from the visits
            {"from": "2026-03-03"},  # nothing began in it
        ],
    )
    async def test_beyond_the_limit_whole_months_and_the_days_around_them_count_every_visit_once(
        self, api: Any, monkeypatch: pytest.MonkeyPatch, period: dict[str, str]
    ) -> None:
        ids = await tell_story(api)
        params = {"entity_type_id": ids["company"], "field": "status", **period}
        exact = (await field_time(api, params)).json()
        monkeypatch.setattr(analytics_fields, "EXACT_VISITS", 0)

        bucketed = (await field_time(api, params)).json()

        assert counted(bucketed) == counted(exact)
        assert bucketed["exact"] is (visits(exact) == 0)

    async def test_binned_restored_and_purged_items_leave_and_rejoin_the_counted_durations(
        self, api: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ids = await tell_story(api)
        params = {"entity_type_id": ids["company"], "field": "status"}
        company = ids["company"]
        monkeypatch.setattr(analytics_fields, "EXACT_VISITS", 0)

        await api.publish(entities.ItemDeleted(item_id=ids["c1"], entity_type_id=company), subject=ids["c1"])
        binned = await api.report("/v1/reports/field-time", lambda r: visits(r) == 4, **params)
        await api.publish(entities.ItemRestored(item_id=ids["c1"], entity_type_id=company), subject=ids["c1"])
        restored = await api.report("/v1/reports/field-time", lambda r: visits(r) == 7, **params)
        await api.publish(entities.ItemPurged(item_id=ids["c2"], entity_type_id=company), subject=ids["c2"])
        purged = await api.report("/v1/reports/field-time", lambda r: visits(r) == 4, **params)

        # c1 binned: c2's imp 2h and 2h30 (open), c3's imp 4h; c2's prog 30m
        assert counted(binned) == [("imp", 1, 3, 30600.0), ("prog", 0, 1, 1800.0)]
        assert counted(restored) == [("imp", 1, 4, 34200.0), ("meet", 1, 1, 7200.0), ("prog", 0, 2, 9000.0)]
        # c2 purged: c1's imp 1h, c3's imp 4h; c1's meet 2h (open); c1's prog 2h
        assert counted(purged) == [("imp", 0, 2, 18000.0), ("meet", 1, 1, 7200.0), ("prog", 0, 1, 7200.0)]
        assert binned["exact"] is restored["exact"] is purged["exact"] is False

    async def test_csv_the_view_and_a_rebuild_give_the_same_figures(self, api: Any, as_analyst: Any) -> None:
        ids = await tell_story(api)
        params = {"entity_type_id": ids["company"], "field": "status"}
        before = (await field_time(api, params)).json()

        text = (await field_time(api, {**params, "format": "csv"})).text
        viewed, now = await view_figures(api, as_analyst, ids["company"])
        rebuilt = await api.client.post("/v1/rebuild", headers=api.headers(roles=(OPERATOR,)))
        after = (await field_time(api, params)).json()

        lines = text.splitlines()
        assert lines[0] == "value,current_items,visits,total_seconds,mean_seconds,median_seconds,p90_seconds"
        assert lines[1] == "imp,1,4,34200.0,8550.0,8100.0,12780.0"
        # the view runs on the database's clock: open visits (c2's imp from 2h30, c1's meet from 3h) up to now()
        open_imp, open_meet = (now - (T0 + 2.5 * H)).total_seconds(), (now - (T0 + 3 * H)).total_seconds()
        assert {value: n for value, (n, _) in viewed.items()} == {"Imported": 4, "In progress": 2, "Meeting set": 1}
        assert viewed["Imported"][1] == pytest.approx((3600 + 7200 + 14400 + open_imp) / 3600, abs=0.01)
        assert viewed["In progress"][1] == pytest.approx(2.5)
        assert viewed["Meeting set"][1] == pytest.approx(open_meet / 3600, abs=0.01)
        assert rebuilt.status_code == 200, rebuilt.text
        assert after == before


async def view_figures(api: Any, as_analyst: Any, entity_type_id: str) -> tuple[dict[str, tuple[int, float]], datetime]:
    """docs/analysts/field_time.sql run by an analyst of the tenant; and the database's now()."""
    example = (ROOT / "docs" / "analysts" / "field_time.sql").read_text()
    example = example.replace(":'tenant'", "$1").replace(":'entity_type'", "$2").replace(":'field'", "$3")
    async with as_analyst(api.database_url, api.tenant) as conn:
        rows = await conn.fetch(example, api.tenant, entity_type_id, "status")
        now = await conn.fetchval("SELECT now()")
    return {r["value"]: (r["visits"], float(r["total_h"])) for r in rows}, now
