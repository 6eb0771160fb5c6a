"""The projections and the analytics API, with the other services' events delivered through Kafka.

One small story whose figures are counted by hand: deals A (manager-1, 100) and B (manager-2, 50)
on stages Request → Review → Won / Lost; A goes back from Review to Request once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from conveyor_access import OPERATOR_ROLE as OPERATOR
from conveyor_contracts import directory, entities, entities_links, pipelines
from reporting.adapters import analytics_flow

pytestmark = pytest.mark.integration

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
STAGES = [("request", "in_progress"), ("review", "in_progress"), ("won", "success"), ("lost", "failure")]
DAY = {"from": "2026-03-01", "to": "2026-03-31"}


async def tell_story(api: Any) -> dict[str, str]:
    """Publish the story; returns its ids once every event has been applied."""
    t = api.tenant
    ids = {"type": f"deal-{t}", "pipeline": f"pipe-{t}", "a": f"a-{t}", "b": f"b-{t}", "line": f"line-{t}"}
    stage = {name: f"{name}-{t}" for name, _ in STAGES}
    ids.update(stage)
    await api.publish(
        entities.EntityTypeCreated(entity_type_id=ids["type"], code="deal", name="Deal", settings={}),
        subject=ids["type"],
    )
    infos = [
        pipelines.StageInfo(stage_id=stage[n], name=n.title(), color="#fff", sort=i, semantic=sem)
        for i, (n, sem) in enumerate(STAGES)
    ]
    await api.publish(
        pipelines.PipelineCreated(
            pipeline_id=ids["pipeline"], entity_type_id=ids["type"], name="Sales", sort=0, is_default=True, stages=infos
        ),
        subject=ids["pipeline"],
        source="pipelines",
    )
    await api.publish(
        directory.RoleGrantsSet(role="manager", entity_type_id=ids["type"], actions={"read": "own"}),
        subject=f"role-manager-{t}",
    )
    for key, assignee, amount in (("a", "manager-1", "100"), ("b", "manager-2", "50")):
        await api.publish(
            entities.ItemCreated(
                item_id=ids[key],
                entity_type_id=ids["type"],
                title=key,
                assignee_id=assignee,
                amount=amount,
                created_by="admin-1",
            ),
            subject=ids[key],
            at=T0,
        )
    moves = [
        ("a", None, "request", 0),
        ("b", None, "request", 0),
        ("a", "request", "review", 1),
        ("b", "request", "lost", 2),
        ("a", "review", "request", 3),
        ("a", "request", "review", 4),
        ("a", "review", "won", 10),
    ]
    semantic = dict(STAGES)
    for key, source, target, hours in moves:
        event: Any
        if source is None:
            event = pipelines.ItemPlaced(
                item_id=ids[key],
                entity_type_id=ids["type"],
                pipeline_id=ids["pipeline"],
                stage_id=stage[target],
                stage_semantic="in_progress",
            )
        else:
            event = pipelines.ItemMovedToStage(
                item_id=ids[key],
                entity_type_id=ids["type"],
                from_pipeline_id=ids["pipeline"],
                from_stage_id=stage[source],
                from_semantic=semantic[source],
                to_pipeline_id=ids["pipeline"],
                to_stage_id=stage[target],
                to_semantic=semantic[target],
                moved_by="user:admin-1",
                moved_at=T0 + hours * H,
            )
        await api.publish(event, subject=ids[key], at=T0 + hours * H, source="pipelines")
    await api.publish(
        entities_links.ProductCreated(product_id=f"ball-{t}", name="Ball", sku="B", base_price="300", currency="RUB"),
        subject=f"ball-{t}",
    )
    await api.publish(
        entities.ItemCreated(
            item_id=ids["line"],
            entity_type_id=f"line-type-{t}",
            title="Basketball",
            fields={"price": "10.5", "quantity": 3},
            created_by="admin-1",
        ),
        subject=ids["line"],
        at=T0,
    )
    await api.publish(
        entities_links.ItemBoundToProduct(item_id=ids["line"], entity_type_id=f"line-type-{t}", product_id=f"ball-{t}"),
        subject=f"item-product-{ids['line']}",
    )
    await api.publish(
        entities_links.ItemLinked(
            relation_id="rel",
            parent_item_id=ids["a"],
            child_item_id=ids["line"],
            parent_entity_type_id=ids["type"],
            child_entity_type_id="x",
        ),
        subject=f"link-{ids['line']}",
    )
    await api.producer.flush()
    for name, department in (("request", "Sales"), ("review", "Finance")):
        response = await api.client.put(
            f"/v1/stage-departments/{stage[name]}", json={"department": department}, headers=api.headers()
        )
        assert response.status_code == 200, response.text
    await api.report("/v1/reports/products", lambda r: len(r["rows"]) == 2, entity_type_id=ids["type"], **DAY)
    await api.report(
        "/v1/reports/stage-time", lambda r: r["rows"][1]["visits"] == 2, pipeline_id=ids["pipeline"], **DAY
    )
    return ids


def by_stage(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["stage"]: row for row in report["rows"]}


class TestFunnelConversion:
    def test_a_stage_converts_from_the_in_progress_stage_before_it_and_a_failure_stage_from_the_first(
        self,
    ) -> None:
        stages = [
            {"stage_id": "new", "semantic": "in_progress"},
            {"stage_id": "offer", "semantic": "in_progress"},
            {"stage_id": "won", "semantic": "success"},
            {"stage_id": "rejected", "semantic": "failure"},
            {"stage_id": "lost", "semantic": "failure"},
        ]

        bases = analytics_flow.conversion_bases(stages)

        assert bases == {"offer": "new", "won": "offer", "rejected": "new", "lost": "new"}


class TestReports:
    async def test_stage_time_counts_every_visit_and_names_the_bottleneck(self, api: Any) -> None:
        ids = await tell_story(api)

        report = (
            await api.client.get(
                "/v1/reports/stage-time", params={"pipeline_id": ids["pipeline"], **DAY}, headers=api.headers()
            )
        ).json()

        rows = by_stage(report)
        assert (rows["Request"]["visits"], rows["Request"]["items"]) == (3, 2)
        assert rows["Request"]["mean_s"] == pytest.approx(4800)
        assert rows["Request"]["median_s"] == pytest.approx(3600)
        assert rows["Request"]["total_s"] == pytest.approx(14400)
        assert rows["Review"]["visits"] == 2 and rows["Review"]["median_s"] == pytest.approx(14400)
        assert rows["Review"]["p90_s"] == pytest.approx(7200 + 0.9 * 14400)
        assert rows["Won"]["visits"] == 0
        assert report["bottleneck_stage_id"] == ids["review"]
        assert report["departments"] == [
            {"department": "Finance", "total_s": 28800.0},
            {"department": "Sales", "total_s": 14400.0},
        ]

    async def test_funnel_throughput_and_products_follow_the_story(self, api: Any) -> None:
        ids = await tell_story(api)
        h = api.headers()

        funnel = (
            await api.client.get("/v1/reports/funnel", params={"pipeline_id": ids["pipeline"], **DAY}, headers=h)
        ).json()
        throughput = (
            await api.client.get("/v1/reports/throughput", params={"entity_type_id": ids["type"], **DAY}, headers=h)
        ).json()
        products = (
            await api.client.get(
                "/v1/reports/products", params={"entity_type_id": ids["type"], **DAY, "per": "month"}, headers=h
            )
        ).json()

        assert [(r["stage"], r["reached"], r["current"]) for r in funnel["rows"]] == [
            ("Request", 2, 0),
            ("Review", 1, 0),
            ("Won", 1, 1),
            ("Lost", 1, 1),
        ]
        # Review: A of the two that entered Request; Won: A, the one that entered Review; Lost: B of the two
        # that entered Request (lost straight from it: counted from the previous in-progress stage, Review, it
        # was 1 of 1 before, and 2 of 1 had both been lost there).
        assert [r["conversion"] for r in funnel["rows"]] == [None, 0.5, 1.0, 0.5]
        assert throughput["rows"] == [{"period": "2026-03-02", "created": 2, "won": 1, "lost": 1, "won_amount": "100"}]
        assert throughput["won_by_assignee"] == [{"assignee_id": "manager-1", "won": 1, "amount": "100", "share": 1.0}]
        assert [(r["by"], r["name"], r["units"], r["amount"]) for r in products["rows"]] == [
            ("line", "Basketball", "3", "31.5"),
            ("product", "Ball", "3", "31.5"),
        ]

    async def test_the_registry_and_the_stage_departments_answer_their_models(self, api: Any) -> None:
        ids = await tell_story(api)
        h = api.headers()

        registry = await api.client.get(
            "/v1/reports/registry", params={"entity_type_id": ids["type"], "field": "kind", **DAY}, headers=h
        )
        departments = await api.client.get("/v1/stage-departments", headers=h)

        assert registry.status_code == 200, registry.text
        assert registry.json() == {
            "entity_type_id": ids["type"],
            "field": "kind",
            "period": DAY,
            "rows": [  # the deals hold no `kind`: no value, no label
                {"day": "2026-03-02", "assignee_id": "manager-1", "value": None, "label": None, "items": 1},
                {"day": "2026-03-02", "assignee_id": "manager-2", "value": None, "label": None, "items": 1},
            ],
        }
        assert departments.status_code == 200, departments.text
        assert departments.json() == {
            "items": [
                {"stage_id": ids["request"], "department": "Sales"},
                {"stage_id": ids["review"], "department": "Finance"},
            ],
            "next_cursor": None,
        }

    async def test_stage_departments_come_in_pages_after_a_cursor(self, api: Any) -> None:
        for stage in ("s1", "s3", "s2"):
            response = await api.client.put(
                f"/v1/stage-departments/{stage}", json={"department": f"D-{stage}"}, headers=api.headers()
            )
            assert response.status_code == 200, response.text

        first = (await api.client.get("/v1/stage-departments", params={"limit": 2}, headers=api.headers())).json()
        rest = (
            await api.client.get(
                "/v1/stage-departments", params={"limit": 2, "cursor": first["next_cursor"]}, headers=api.headers()
            )
        ).json()
        forged = await api.client.get("/v1/stage-departments", params={"cursor": "e30"}, headers=api.headers())

        assert [d["stage_id"] for d in first["items"]] == ["s1", "s2"] and first["next_cursor"]
        assert rest == {"items": [{"stage_id": "s3", "department": "D-s3"}], "next_cursor": None}
        assert forged.status_code == 422 and forged.json()["type"].endswith("/invalid-cursor")

    async def test_a_report_names_its_type_by_id_or_code_and_an_unknown_type_is_a_404(self, api: Any) -> None:
        ids = await tell_story(api)
        h = api.headers()

        def report(path: str, type_id: str, **params: str) -> Any:
            return api.client.get(path, params={"entity_type_id": type_id, **DAY, **params}, headers=h)

        answers = {
            path: [await report(path, type_id, **params) for type_id in (ids["type"], "deal", "no-such-type")]
            for path, params in (
                ("/v1/reports/throughput", {}),
                ("/v1/reports/products", {}),
                ("/v1/reports/registry", {"field": "kind"}),
                ("/v1/reports/field-time", {"field": "kind"}),
                ("/v1/reports/process-steps", {}),
            )
        }

        for path, (by_id, by_code, unknown) in answers.items():
            assert by_id.status_code == 200 and by_code.json() == by_id.json(), path
            assert unknown.status_code == 404, path
            assert (unknown.json()["title"], unknown.json()["type"].rsplit("/", 1)[1]) == (
                "Unknown entity type",
                "unknown-entity-type",
            )

    async def test_product_lines_follow_their_deal_binned_restored_and_reassigned(self, api: Any) -> None:
        ids = await tell_story(api)
        params = {"entity_type_id": ids["type"], **DAY, "per": "month"}
        manager_1, manager_2 = api.headers("manager-1", ("manager",)), api.headers("manager-2", ("manager",))
        deal = {"item_id": ids["a"], "entity_type_id": ids["type"]}

        await api.publish(entities.ItemDeleted(**deal), subject=ids["a"], at=T0 + 11 * H)
        binned = await api.report("/v1/reports/products", lambda r: r["rows"] == [], **params)
        await api.publish(entities.ItemRestored(**deal), subject=ids["a"], at=T0 + 12 * H)
        restored = await api.report("/v1/reports/products", lambda r: len(r["rows"]) == 2, **params)
        mine_before = await api.report("/v1/reports/products", lambda r: True, _headers=manager_1, **params)
        await api.publish(
            entities.ItemUpdated(**deal, changes={"assignee_id": {"old": "manager-1", "new": "manager-2"}}),
            subject=ids["a"],
            at=T0 + 13 * H,
        )
        theirs = await api.report("/v1/reports/products", lambda r: len(r["rows"]) == 2, _headers=manager_2, **params)
        mine_after = (await api.client.get("/v1/reports/products", params=params, headers=manager_1)).json()

        assert binned["rows"] == []
        assert [(r["by"], r["units"], r["amount"]) for r in restored["rows"]] == [
            ("line", "3", "31.5"),
            ("product", "3", "31.5"),
        ]
        assert len(mine_before["rows"]) == 2
        assert theirs["rows"] == restored["rows"]
        assert mine_after["rows"] == []

    async def test_a_manager_sees_only_their_own_items(self, api: Any) -> None:
        ids = await tell_story(api)
        manager = api.headers("manager-2", ("manager",))

        report = await api.report(
            "/v1/reports/stage-time", lambda r: True, pipeline_id=ids["pipeline"], _headers=manager, **DAY
        )
        funnel = (
            await api.client.get("/v1/reports/funnel", params={"pipeline_id": ids["pipeline"], **DAY}, headers=manager)
        ).json()
        stranger = await api.client.get(
            "/v1/reports/funnel",
            params={"pipeline_id": ids["pipeline"]},
            headers=api.headers(tenant="someone-else"),
        )

        assert by_stage(report)["Request"]["visits"] == 1
        assert by_stage(report)["Review"]["visits"] == 0
        assert [r["reached"] for r in funnel["rows"]] == [1, 0, 0, 1]
        assert stranger.status_code == 404

    async def test_csv_the_view_and_a_rebuild_give_the_same_figures(self, api: Any) -> None:
        ids = await tell_story(api)
        params = {"pipeline_id": ids["pipeline"], **DAY}
        before = (await api.client.get("/v1/reports/stage-time", params=params, headers=api.headers())).json()

        csv_text = (
            await api.client.get(
                "/v1/reports/stage-time", params=params, headers={**api.headers(), "Accept": "text/csv"}
            )
        ).text
        rebuilt = await api.client.post("/v1/rebuild", headers=api.headers(roles=(OPERATOR,)))
        after = (await api.client.get("/v1/reports/stage-time", params=params, headers=api.headers())).json()
        by_code = await api.client.get(
            "/v1/reports/throughput", params={"entity_type_id": "deal", **DAY}, headers=api.headers()
        )
        ready = (await api.client.get("/health/ready")).json()

        assert csv_text.splitlines()[0] == "stage_id,stage,department,visits,items,mean_s,median_s,p90_s,total_s"
        assert csv_text.splitlines()[1].startswith(f"{ids['request']},Request,Sales,3,2,4800.0,3600.0,")
        assert rebuilt.status_code == 200 and rebuilt.json()["events"] >= 13
        assert after == before
        assert by_code.status_code == 200 and by_code.json()["entity_type_id"] == ids["type"]  # the code replayed
        assert "conveyor.pipelines.item" in ready["checks"]["projection_lag"]["topics"]

    async def test_forgotten_items_are_listed_with_their_last_change_as_json(self, api: Any) -> None:
        ids = await tell_story(api)
        idle = f"idle-{api.tenant}"
        await api.publish(
            entities.ItemCreated(item_id=idle, entity_type_id=ids["type"], title="Idle", created_by="admin-1"),
            subject=idle,
            at=T0,
        )
        await api.publish(
            pipelines.ItemPlaced(
                item_id=idle,
                entity_type_id=ids["type"],
                pipeline_id=ids["pipeline"],
                stage_id=ids["review"],
                stage_semantic="in_progress",
            ),
            subject=idle,
            at=T0,
            source="pipelines",
        )

        report = await api.report(
            "/v1/reports/forgotten",
            lambda r: idle in [row["item_id"] for row in r["rows"]],
            pipeline_id=ids["pipeline"],
        )

        (row,) = [row for row in report["rows"] if row["item_id"] == idle]
        assert row["stage"] == "Review"
        assert row["last_change"].endswith("Z") and datetime.fromisoformat(row["last_change"]) <= T0 + H
        assert row["idle_days"] > 7

    async def test_over_the_exact_limit_stage_time_reads_the_duration_buckets_kept_by_projector_and_rebuild(
        self, api: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ids = await tell_story(api)
        params = {"pipeline_id": ids["pipeline"], **DAY}
        exact = (await api.client.get("/v1/reports/stage-time", params=params, headers=api.headers())).json()
        monkeypatch.setattr(analytics_flow, "EXACT_VISITS", 0)

        bucketed = (await api.client.get("/v1/reports/stage-time", params=params, headers=api.headers())).json()
        assert (await api.client.post("/v1/rebuild", headers=api.headers(roles=(OPERATOR,)))).status_code == 200
        rebuilt = (await api.client.get("/v1/reports/stage-time", params=params, headers=api.headers())).json()

        assert exact["exact"] is True and bucketed["exact"] is False
        for row, estimate in zip(exact["rows"], bucketed["rows"], strict=True):
            assert (estimate["visits"], estimate["total_s"], estimate["mean_s"]) == (
                row["visits"],
                row["total_s"],
                row["mean_s"],
            )
            for figure in ("median_s", "p90_s"):
                assert (estimate[figure] is None) == (row[figure] is None)
                if row[figure] is not None:
                    assert estimate[figure] == pytest.approx(row[figure], rel=0.05)
        assert by_stage(bucketed)["Request"]["items"] == 2  # first entries: a and b
        assert bucketed["bottleneck_stage_id"] == exact["bottleneck_stage_id"]
        assert rebuilt == bucketed

    async def test_a_manager_over_the_exact_limit_gets_buckets_of_their_own_visits(
        self, api: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ids = await tell_story(api)
        manager = api.headers("manager-2", ("manager",))
        params = {"pipeline_id": ids["pipeline"], **DAY}
        exact = (await api.client.get("/v1/reports/stage-time", params=params, headers=manager)).json()
        monkeypatch.setattr(analytics_flow, "EXACT_VISITS", 0)

        bucketed = (await api.client.get("/v1/reports/stage-time", params=params, headers=manager)).json()

        assert (exact["exact"], bucketed["exact"]) == (True, False)
        assert by_stage(bucketed)["Request"]["visits"] == by_stage(exact)["Request"]["visits"] == 1
        assert by_stage(bucketed)["Request"]["total_s"] == by_stage(exact)["Request"]["total_s"]
        assert by_stage(bucketed)["Request"]["median_s"] == pytest.approx(
            by_stage(exact)["Request"]["median_s"], rel=0.05
        )
        assert by_stage(bucketed)["Review"]["visits"] == 0
