"""Product lines bound to a catalogue (docs/scenarios/product-rollup.md), through HTTP only: steps
1-3 (the deal's amount follows its lines), and step 4 (reporting: "Ball" units sold per day, week
and month, and per line name, against a hand count).

Step 4 uses the story's 10,000 random lines over 14 deals (12 won on four days, one lost, one open)
through the fastest HTTP path: one CSV import creates the lines (the importer sets fields only),
then two calls per line, eight at a time, bind it to "Ball" and link it to its deal; about 80 s on
the shared two-core machine, so it is marked slow.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import io
import random
import uuid
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

pytestmark = pytest.mark.e2e

LINES = 10_000
LINE_NAMES = {"Basketball ball 500": "500", "Football ball 300": "300", "Handball ball 700": "700"}
# Deals won on these days (a Friday in January, then Monday and Tuesday of one February week, a day in
# March), so days, weeks and months all group differently; one more deal is lost and one stays open.
WON_ON = [date(2026, 1, 30), date(2026, 2, 2), date(2026, 2, 3), date(2026, 3, 10)]


async def deal_amount(admin: Any, deal_id: str) -> Any:
    return (await admin.ok("GET", f"/v1/items/{deal_id}"))["amount"]


async def define_deals_with_lines(
    admin: Any,
    *,
    deal_settings: dict[str, Any] | None = None,
    line_settings: dict[str, Any] | None = None,
    extra_line_fields: Sequence[dict[str, Any]] = (),
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any], dict[str, Any]]:
    """The product "Ball" (base price 300), "Deal", and "Product line" (price, quantity) bound to the
    catalogue and linked to its deal (one deal, many lines): (ball, deal type, line type, relation)."""
    ball = await admin.ok(
        "POST", "/v1/products", {"name": "Ball", "sku": "BALL", "base_price": "300", "currency": "RUB"}
    )
    deal_type = await admin.ok(
        "POST", "/v1/entity-types", {"code": "deal", "name": "Deal", "settings": deal_settings or {}}
    )
    line_type = await admin.ok(
        "POST",
        "/v1/entity-types",
        {"code": "product_line", "name": "Product line",
         "settings": {"catalogue_binding": True, **(line_settings or {})}},
    )  # fmt: skip
    for field in (
        {"code": "price", "label": "Price", "kind": "decimal"},
        {"code": "quantity", "label": "Quantity", "kind": "integer"},
        *extra_line_fields,
    ):
        await admin.ok("POST", f"/v1/entity-types/{line_type['id']}/fields", field)
    relation = await admin.ok(
        "POST",
        "/v1/relations",
        {
            "code": "deal_product_lines",
            "name": "Product lines",
            "parent_entity_type_id": deal_type["id"],
            "child_entity_type_id": line_type["id"],
            "cardinality": "one_to_many",
        },
    )
    return ball, deal_type, line_type, relation


class TestProductRollup:
    async def test_the_deal_amount_is_the_sum_of_its_lines_made_by_the_rollup_rule(
        self, entities_service: Any, settled: Any
    ) -> None:
        admin = entities_service.as_user(f"shop-{uuid.uuid4().hex[:8]}", "admin-1", "admin")

        # 1. A catalogue holds the product "Ball" (base price 300).
        # 2. "Product line" is linked to "Deal" (one deal, many lines) and bound to the catalogue.
        ball, deal_type, line_type, relation = await define_deals_with_lines(
            admin, deal_settings={"default_currency": "RUB"}
        )
        rule = await admin.ok(
            "POST",
            "/v1/rollup-rules",
            {
                "relation_id": relation["id"],
                "parent_field": "amount",
                "aggregate": "sum",
                "child_fields": ["fields.price", "fields.quantity"],
            },
        )
        deal = await admin.ok("POST", "/v1/items", {"entity_type_id": deal_type["id"], "title": "School sports"})
        lines = {}
        for title, price, quantity in [
            ("Basketball ball", "500", 2),
            ("Football ball", "300", 3),
            ("Handball ball", "700", 1),
        ]:
            line = await admin.ok(
                "POST",
                "/v1/items",
                {"entity_type_id": line_type["id"], "title": title, "fields": {"price": price, "quantity": quantity}},
            )
            await admin.ok("PUT", f"/v1/items/{line['id']}/product", {"product_id": ball["id"]})
            await admin.ok(
                "POST",
                f"/v1/relations/{relation['id']}/links",
                {"parent_item_id": deal["id"], "child_item_id": line["id"]},
            )
            lines[title] = line

        bound = await admin.ok("GET", f"/v1/products/{ball['id']}/items")
        assert sorted((i["title"], i["fields"]["price"]) for i in bound["items"]) == [
            ("Basketball ball", "500"),
            ("Football ball", "300"),
            ("Handball ball", "700"),
        ]
        linked = await admin.ok("GET", f"/v1/items/{deal['id']}/links/{relation['id']}")
        assert len(linked["items"]) == 3

        # 3. Lines added, changed or removed: the deal's amount follows (sum of price x quantity).
        async def amount() -> Any:
            return await deal_amount(admin, deal["id"])

        assert await settled(amount, lambda a: a == "2600.00") == "2600.00"
        await admin.ok(
            "PATCH",
            f"/v1/items/{lines['Football ball']['id']}",
            {"fields": {"quantity": 5}},
            headers={"If-Match": '"1"'},
        )
        assert await settled(amount, lambda a: a == "3200.00") == "3200.00"
        await admin.ok("DELETE", f"/v1/items/{lines['Handball ball']['id']}", headers={"If-Match": '"1"'})
        assert await settled(amount, lambda a: a == "2500.00") == "2500.00"

        timeline = await admin.ok("GET", f"/v1/items/{deal['id']}/timeline")
        amount_changes = [
            (entry["actor"], change["new"])
            for entry in timeline["entries"]
            for change in entry["changes"]
            if change["field"] == "amount"
        ]
        robot = {"kind": "robot", "id": f"rollup-{rule['id']}"}
        assert amount_changes[-2:] == [(robot, "3200.00"), (robot, "2500.00")]
        assert all(actor == robot for actor, _ in amount_changes)
        assert (await admin.ok("GET", f"/v1/products/{ball['id']}"))["base_price"] == "300"


def week_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def month_of(day: date) -> date:
    return day.replace(day=1)


async def all_items(admin: Any, entity_type_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    cursor = None
    while True:
        params = {"entity_type_id": entity_type_id, "limit": 200, **({"cursor": cursor} if cursor else {})}
        page = await admin.ok("GET", "/v1/items", params=params)
        found += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return found


@pytest.mark.slow
class TestProductReport:
    async def test_reporting_counts_ball_units_on_won_deals_per_day_week_month_and_line_name(
        self, entities_service: Any, reporting_service: Any, start_service: Any, settled: Any
    ) -> None:
        tenant = f"balls-{uuid.uuid4().hex[:8]}"
        admin = entities_service.as_user(tenant, "admin-1", "admin")
        rng = random.Random(4)
        async with start_service("pipelines") as pipelines_service:  # its own clock: deals won on past days
            ball, deal_type, line_type, relation = await define_deals_with_lines(
                admin,
                line_settings={"pipelines_enabled": False},
                extra_line_fields=[{"code": "ref", "label": "Ref", "kind": "string"}],
            )
            # Deals: three won on each day of WON_ON, one lost, one left open.
            outcome_of: dict[str, date | str | None] = {}
            for n, outcome in enumerate([d for d in WON_ON for _ in range(3)] + ["lost", None]):
                deal = await admin.ok("POST", "/v1/items", {"entity_type_id": deal_type["id"], "title": f"Deal {n}"})
                outcome_of[deal["id"]] = outcome

            # The lines: one CSV import (name, price, random quantity, a ref to find each again).
            planned = []
            for ref in range(LINES):
                name = rng.choice(sorted(LINE_NAMES))
                planned.append((f"L{ref}", name, LINE_NAMES[name], rng.randint(1, 10), rng.choice(list(outcome_of))))
            out = io.StringIO()
            writer = csv.writer(out)
            writer.writerow(["ref", "name", "price", "quantity"])
            writer.writerows((ref, name, price, quantity) for ref, name, price, quantity, _ in planned)
            file = await admin.ok(
                "POST",
                "/v1/imports/files?file_name=lines.csv",
                content=out.getvalue().encode(),
                headers={"Content-Type": "text/csv"},
            )
            body = {
                "file_id": file["id"],
                "entity_type_id": line_type["id"],
                "mapping": {"ref": "ref", "name": "title", "price": "price", "quantity": "quantity"},
            }
            job = await admin.ok("POST", "/v1/imports", body, headers={"Idempotency-Key": f"lines-{tenant}"})

            async def import_job() -> Any:
                return await admin.ok("GET", f"/v1/imports/{job['id']}")

            finished = await settled(import_job, lambda j: j["status"] != "running", within=60)
            assert (finished["status"], finished["imported"]) == ("completed", LINES), finished
            line_id = {i["fields"]["ref"]: i["id"] for i in await all_items(admin, line_type["id"])}
            assert len(line_id) == LINES

            # Each line refers to "Ball" and is linked to its deal (eight calls at a time).
            gate = asyncio.Semaphore(8)

            async def attach(ref: str, deal_id: str) -> None:
                async with gate:
                    await admin.ok("PUT", f"/v1/items/{line_id[ref]}/product", {"product_id": ball["id"]})
                    await admin.ok(
                        "POST",
                        f"/v1/relations/{relation['id']}/links",
                        {"parent_item_id": deal_id, "child_item_id": line_id[ref]},
                    )

            await asyncio.gather(*(attach(ref, deal_id) for ref, _, _, _, deal_id in planned))

            # Deals are won (or lost) through the pipelines API, its clock on the day of the move.
            async def placed(deal_id: str) -> int:
                response = await pipelines_service.as_user(tenant, "admin-1", "admin").call(
                    "GET", f"/v1/placements/{deal_id}"
                )
                return int(response.status_code)

            pipeline = None
            for deal_id, outcome in outcome_of.items():
                assert await settled(lambda d=deal_id: placed(d), lambda status: status == 200) == 200
                if outcome is None:
                    continue
                day = outcome if isinstance(outcome, date) else WON_ON[-1]
                at = datetime(day.year, day.month, day.day, 15, 30, tzinfo=UTC)
                clock = await pipelines_service.http.post(
                    pipelines_service.base_url + "/v1/test/clock", json={"set_to": at.isoformat()}
                )
                assert clock.status_code == 200, clock.text
                mover = dataclasses.replace(pipelines_service.as_user(tenant, "admin-1", "admin"), at=at)
                if pipeline is None:
                    pipeline = (await mover.ok("GET", f"/v1/pipelines?entity_type_id={deal_type['id']}"))["items"][0]
                semantic = "failure" if outcome == "lost" else "success"
                target = next(s["id"] for s in pipeline["stages"] if s["semantic"] == semantic)
                await mover.ok(
                    "POST", f"/v1/placements/{deal_id}/move", {"to_stage_id": target}, headers={"If-Match": '"1"'}
                )

        # 4. The hand count: units of lines on won deals per bucket of the day the deal was won, per line name.
        def expected(bucket: Any) -> dict[tuple[str, str, str], int]:
            counted: Counter[tuple[str, str, str]] = Counter()
            for _, name, _, quantity, deal_id in planned:
                won = outcome_of[deal_id]
                if isinstance(won, date):
                    counted[(bucket(won).isoformat(), "product", ball["id"])] += quantity
                    counted[(bucket(won).isoformat(), "line", name)] += quantity
            return dict(counted)

        reporter = reporting_service.as_user(tenant, "admin-1", "admin")

        async def units(per: str) -> dict[tuple[str, str, str], int]:
            params = {"entity_type_id": deal_type["id"], "from": "2026-01-01", "to": "2026-03-31", "per": per}
            response = await reporter.call("GET", "/v1/reports/products", params=params)
            if response.status_code != 200:
                return {}
            return {(r["period"], r["by"], r["key"]): int(Decimal(r["units"])) for r in response.json()["rows"]}

        for per, bucket in (("day", lambda d: d), ("week", week_of), ("month", month_of)):
            want = expected(bucket)
            assert await settled(lambda p=per: units(p), lambda got, w=want: got == w, within=120) == want
        by_month = expected(month_of)
        assert sum(n for (_, by, _), n in by_month.items() if by == "product") == sum(
            quantity for _, _, _, quantity, deal_id in planned if isinstance(outcome_of[deal_id], date)
        )
        names = (
            await reporter.ok(
                "GET",
                "/v1/reports/products",
                params={"entity_type_id": deal_type["id"], "from": "2026-01-01", "to": "2026-03-31", "per": "month"},
            )
        )["rows"]
        assert {r["name"] for r in names if r["by"] == "product"} == {"Ball"}
        assert {r["key"] for r in names if r["by"] == "line"} == set(LINE_NAMES)
