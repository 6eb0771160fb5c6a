"""Process analytics: business-process events produced the way automation produces them (its streams,
subjects and actors), delivered through Kafka, and every figure checked against a count made by hand.

Companies c1, c3 (manager-1) and c2 (manager-2); "Onboarding" (two versions) and "Contract" templates.

    I1 c1 Onboarding v1  "Was a meeting set?" 0h-2h next_call, 2h-5h meeting; "Meeting held?" from 5h (open)
    I2 c2 Onboarding v2  "Was a meeting set?" 1h-1h30 reject; ends at 1h30
    I3 c3 Onboarding v1  "Was a meeting set?" from 3h, never completed; the instance ends at 6h (its events
                         are published before the task's: the step is closed as it is recorded)
    I4 c1 Onboarding v1  "Was a meeting set?" 7h-8h meeting; then waits for a timer (no open step)
    I6 c2 Contract       "Sign" from 2h (open)
    a robot's task on c1 is not a process step

Now is 10h. "Was a meeting set?": 2h, 3h, 30m, 3h (cancelled), 1h = 5 steps, 34,200 s, mean 6,840 s,
median 7,200 s, p90 10,800 s.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from conveyor_access import OPERATOR_ROLE as OPERATOR
from conveyor_contracts import automation, directory, entities
from conveyor_kit.api_models import utc_z
from conveyor_kit.clock import ControllableClock
from conveyor_messaging.actor import Actor
from conveyor_messaging.envelope import Envelope
from reporting.adapters import analytics_process

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)
MONTH = {"from": "2026-03-01", "to": "2026-03-31"}
ASK = "Was a meeting set?"


class Automation:
    """Plays the automation service: its process and task streams, in the order it records them."""

    def __init__(self, api: Any, company_type: str) -> None:
        self.api, self.company_type = api, company_type
        self.versions: dict[str, int] = {}

    async def _append(self, event: Any, stream: str, at: datetime, actor: Actor) -> Envelope:
        self.versions[stream] = self.versions.get(stream, 0) + 1
        published: Envelope = await self.api.publish(
            event, subject=stream, at=at, source="automation", version=self.versions[stream], actor=actor
        )
        return published

    async def template(self, template_id: str, version: int, name: str, entity_type_id: str | None = None) -> None:
        saved = automation.ProcessTemplateSaved(
            template_id=template_id,
            version=version,
            name=name,
            process_id=f"p-{template_id}",
            entity_type_id=entity_type_id or self.company_type,
            start={"mode": "manual"},
        )
        await self._append(saved, f"process-template-{template_id}", T0 - H, Actor.user("admin-1"))

    async def start(self, instance: str, template_id: str, version: int, item: str, at: datetime) -> None:
        started = automation.ProcessStarted(
            instance_id=instance, template_id=template_id, template_version=version, item_id=item, started_by="user:m"
        )
        await self._append(started, f"process-{instance}", at, Actor.process(instance))

    async def finish(self, instance: str, template_id: str, item: str, at: datetime) -> None:
        done = automation.ProcessFinished(instance_id=instance, template_id=template_id, item_id=item, end_event="end")
        await self._append(done, f"process-{instance}", at, Actor.process(instance))

    async def task(self, task_id: str, item: str, title: str, at: datetime, source: str) -> Envelope:
        created = automation.TaskCreated(
            task_id=task_id,
            item_id=item,
            title=title,
            assignee_user_id=None,
            assignee_role="manager",
            candidate_user_ids=["manager-1", "manager-2"],
            outcomes=[{"id": "done", "label": "Done"}],
            due_at=None,
            source=source,
        )
        actor = Actor.process(source.removeprefix("process:")) if source.startswith("process:") else Actor.robot("r-1")
        return await self._append(created, f"task-{task_id}", at, actor)

    async def step(self, instance: str, spiff: str, item: str, title: str, at: datetime) -> str:
        task_id = f"{instance}:{spiff}"
        await self.task(task_id, item, title, at, f"process:{instance}")
        return task_id

    async def complete(self, task_id: str, item: str, outcome: str, at: datetime) -> None:
        completed = automation.TaskCompleted(
            task_id=task_id, item_id=item, outcome=outcome, values={}, completed_by="manager-1", overdue=False
        )
        await self._append(completed, f"task-{task_id}", at, Actor.user("manager-1"))


async def tell_story(api: Any) -> dict[str, str]:
    t = api.tenant
    ids = {k: f"{k}-{t}" for k in ("company", "c1", "c2", "c3", "onboarding", "contract", "I1", "I2", "I3", "I4")}
    ids["I6"] = f"I6-{t}"
    await api.publish(
        entities.EntityTypeCreated(entity_type_id=ids["company"], code="company", name="Company", settings={}),
        subject=ids["company"],
    )
    await api.publish(
        directory.RoleGrantsSet(role="manager", entity_type_id=ids["company"], actions={"read": "own"}),
        subject=f"role-manager-{t}",
    )
    for key, assignee in (("c1", "manager-1"), ("c2", "manager-2"), ("c3", "manager-1")):
        await api.publish(
            entities.ItemCreated(
                item_id=ids[key], entity_type_id=ids["company"], title=key, assignee_id=assignee, created_by="admin-1"
            ),
            subject=ids[key],
            at=T0,
        )
    bot = Automation(api, ids["company"])
    await bot.template(ids["onboarding"], 1, "Onboarding (draft)")
    await bot.template(ids["onboarding"], 2, "Onboarding")
    await bot.template(ids["contract"], 1, "Contract")
    await bot.template(f"elsewhere-{t}", 1, "Another type's", entity_type_id=f"other-type-{t}")

    # I3's start and end come first; its task's creation only after they were applied
    await bot.start(ids["I3"], ids["onboarding"], 1, ids["c3"], T0 + 3 * H)
    await bot.finish(ids["I3"], ids["onboarding"], ids["c3"], T0 + 6 * H)
    await api.producer.flush()
    await api.eventually(lambda: instance_finished(api, ids["I3"]), bool)
    await bot.step(ids["I3"], "s1", ids["c3"], ASK, T0 + 3 * H)

    await bot.start(ids["I1"], ids["onboarding"], 1, ids["c1"], T0)
    first = await bot.step(ids["I1"], "s1", ids["c1"], ASK, T0)
    await bot.complete(first, ids["c1"], "next_call", T0 + 2 * H)
    again = await bot.step(ids["I1"], "s2", ids["c1"], ASK, T0 + 2 * H)
    await bot.complete(again, ids["c1"], "meeting", T0 + 5 * H)
    await bot.step(ids["I1"], "s3", ids["c1"], "Meeting held?", T0 + 5 * H)

    await bot.start(ids["I2"], ids["onboarding"], 2, ids["c2"], T0 + H)
    rejected = await bot.step(ids["I2"], "s1", ids["c2"], ASK, T0 + H)
    await bot.complete(rejected, ids["c2"], "reject", T0 + 1.5 * H)
    await bot.finish(ids["I2"], ids["onboarding"], ids["c2"], T0 + 1.5 * H)

    await bot.start(ids["I4"], ids["onboarding"], 1, ids["c1"], T0 + 7 * H)
    met = await bot.step(ids["I4"], "s1", ids["c1"], ASK, T0 + 7 * H)
    await bot.complete(met, ids["c1"], "meeting", T0 + 8 * H)

    await bot.start(ids["I6"], ids["contract"], 1, ids["c2"], T0 + 2 * H)
    await bot.step(ids["I6"], "s1", ids["c2"], "Sign", T0 + 2 * H)
    robots = await bot.task(f"robot-task-{t}", ids["c1"], "Call back", T0, "robot:r-1")
    await api.producer.flush()
    api.app.state.clock = ControllableClock(T0 + 10 * H)
    await api.report(
        "/v1/reports/process-steps",
        lambda r: len(r["rows"]) == 4 and r["rows"][2]["visits"] == 5 and r["rows"][3]["waiting"] == 1,
        entity_type_id=ids["company"],
        **MONTH,
    )
    await api.eventually(lambda: fetch_value(api, "SELECT 1 FROM journal WHERE event_id = $1", robots.id), bool)
    return ids


async def instance_finished(api: Any, instance: str) -> bool:
    sql = "SELECT finished_at IS NOT NULL FROM projection.process_instances WHERE tenant_id = $1 AND instance_id = $2"
    return bool(await fetch_value(api, sql, api.tenant, instance))


async def fetch_value(api: Any, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(api.database_url)
    try:
        return await conn.fetchval(sql, *args)
    finally:
        await conn.close()


def waiting(since: datetime | None, seconds: float | None, count: int) -> dict[str, Any]:
    return {
        "waiting": count,
        "oldest_waiting_since": utc_z(since) if since else None,
        "oldest_waiting_seconds": seconds,
    }


async def view_statuses(api: Any, *instances: str) -> list[str]:
    sql = "SELECT status FROM reporting.process_instances WHERE tenant_id = $1 AND instance_id = $2"
    return [await fetch_value(api, sql, api.tenant, instance) for instance in instances]


NOBODY_DONE = {"visits": 0, "total_seconds": 0.0, "mean_seconds": None, "median_seconds": None, "p90_seconds": None}


class TestProcessSteps:
    async def test_the_analysts_view_says_completed_as_automation_does(self, api: Any) -> None:
        ids = await tell_story(api)

        # I3 ended; I1 still waits in "Meeting held?" (docs/api-conventions.md: one word for finished)
        assert await view_statuses(api, ids["I3"], ids["I1"]) == ["completed", "running"]

    async def test_time_per_step_and_where_instances_wait_equal_a_hand_count(self, api: Any) -> None:
        ids = await tell_story(api)

        response = await api.client.get(
            "/v1/reports/process-steps", params={"entity_type_id": ids["company"], **MONTH}, headers=api.headers()
        )

        assert response.status_code == 200
        contract, onboarding = ids["contract"], ids["onboarding"]
        assert response.json()["rows"] == [
            {"template_id": contract, "template": "Contract", "step": "Sign", **NOBODY_DONE,
             **waiting(T0 + 2 * H, 8 * 3600.0, 1)},
            {"template_id": onboarding, "template": "Onboarding", "step": "Meeting held?", **NOBODY_DONE,
             **waiting(T0 + 5 * H, 5 * 3600.0, 1)},
            {"template_id": onboarding, "template": "Onboarding", "step": ASK, "visits": 5, "total_seconds": 34200.0,
             "mean_seconds": 6840.0, "median_seconds": 7200.0, "p90_seconds": 10800.0, **waiting(None, None, 0)},
            {"template_id": onboarding, "template": "Onboarding", "step": None, **NOBODY_DONE,
             **waiting(T0 + 8 * H, 2 * 3600.0, 1)},
        ]  # fmt: skip

    async def test_over_the_exact_limit_median_and_p90_come_from_duration_buckets(
        self, api: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        ids = await tell_story(api)
        params = {"entity_type_id": ids["company"], **MONTH}
        exact = (await api.client.get("/v1/reports/process-steps", params=params, headers=api.headers())).json()
        monkeypatch.setattr(analytics_process, "EXACT_VISITS", 0)

        bucketed = (await api.client.get("/v1/reports/process-steps", params=params, headers=api.headers())).json()

        assert (exact["exact"], bucketed["exact"]) == (True, False)
        for row, estimate in zip(exact["rows"], bucketed["rows"], strict=True):
            assert {k: v for k, v in estimate.items() if not k.endswith("_seconds")} == {
                k: v for k, v in row.items() if not k.endswith("_seconds")
            }
            assert estimate["total_seconds"] == pytest.approx(row["total_seconds"])
            for figure in ("mean_seconds", "median_seconds", "p90_seconds"):
                assert (estimate[figure] is None) == (row[figure] is None)
                if row[figure] is not None:
                    assert estimate[figure] == pytest.approx(row[figure], rel=0.05)

    async def test_a_manager_sees_the_steps_of_their_own_items_only(self, api: Any) -> None:
        ids = await tell_story(api)
        manager = api.headers("manager-2", ("manager",))

        mine = (
            await api.client.get(
                "/v1/reports/process-steps", params={"entity_type_id": ids["company"], **MONTH}, headers=manager
            )
        ).json()
        stranger = await api.client.get(
            "/v1/reports/process-steps",
            params={"entity_type_id": ids["company"], "template_id": ids["onboarding"]},
            headers=api.headers(tenant="someone-else"),
        )

        assert [(r["template"], r["step"], r["visits"], r["total_seconds"], r["waiting"]) for r in mine["rows"]] == [
            ("Contract", "Sign", 0, 0.0, 1),
            ("Onboarding", ASK, 1, 1800.0, 0),
        ]
        assert stranger.status_code == 404
        assert stranger.headers["content-type"].startswith("application/problem+json")

    async def test_one_template_a_period_csv_the_views_and_a_rebuild_agree(self, api: Any, as_analyst: Any) -> None:
        ids = await tell_story(api)
        params = {"entity_type_id": ids["company"], "template_id": ids["onboarding"], **MONTH}
        before = (await api.client.get("/v1/reports/process-steps", params=params, headers=api.headers())).json()

        later = (
            await api.client.get(
                "/v1/reports/process-steps",
                params={**params, "from": "2026-03-03", "to": "2026-03-31"},
                headers=api.headers(),
            )
        ).json()
        text = (
            await api.client.get("/v1/reports/process-steps", params={**params, "format": "csv"}, headers=api.headers())
        ).text
        by_view = await view_figures(api, as_analyst, ids["company"])
        rebuilt = await api.client.post("/v1/rebuild", headers=api.headers(roles=(OPERATOR,)))
        after = (await api.client.get("/v1/reports/process-steps", params=params, headers=api.headers())).json()

        assert [r["step"] for r in before["rows"]] == ["Meeting held?", ASK, None]
        assert [(r["step"], r["visits"], r["waiting"]) for r in later["rows"]] == [
            ("Meeting held?", 0, 1),
            (None, 0, 1),
        ]  # steps of 2 March are out of the period; waiting is now, whatever the period
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows[1]["step"] == ASK and rows[1]["visits"] == "5" and float(rows[1]["median_seconds"]) == 7200
        assert by_view[("Onboarding", ASK)] == {"ended": 5, "median_h": 2, "waiting": 0}
        assert by_view[("Onboarding", "Meeting held?")] == {"ended": 0, "median_h": None, "waiting": 1}
        assert by_view[("Contract", "Sign")]["waiting"] == 1
        assert rebuilt.status_code == 200, rebuilt.text
        assert after == before


async def view_figures(api: Any, as_analyst: Any, entity_type_id: str) -> dict[tuple[str, str], dict[str, Any]]:
    """docs/analysts/process_steps.sql run by an analyst of the tenant."""
    example = (ROOT / "docs" / "analysts" / "process_steps.sql").read_text()
    example = example.replace(":'tenant'", "$1").replace(":'entity_type'", "$2")
    async with as_analyst(api.database_url, api.tenant) as conn:
        rows = await conn.fetch(example, api.tenant, entity_type_id)
    return {
        (r["template"], r["step"]): {
            "ended": r["ended"],
            "median_h": None if r["median_h"] is None else float(r["median_h"]),
            "waiting": r["waiting"],
        }
        for r in rows
    }
