"""The "no change for N days" trigger: an item that sits unchanged on a watched stage moves to the
trigger's stage. The spec's rules, then the running service (real PostgreSQL and Kafka)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from typing import Any as Automation  # the `automation` / `automation_harness` fixtures of conftest.py

import pytest
from automation.domain.triggers import TriggerSpec
from conveyor_contracts import entities
from conveyor_messaging.envelope import Envelope
from pydantic import ValidationError

MOVE = "conveyor.pipelines.item_command.move.v1"
NOTIFY = "conveyor.notifications.notification_command.notify.v1"
PIPE, NEW, PROPOSAL, LOST, WON = "pipe-sales", "st-new", "st-proposal", "st-lost", "st-won"
DAY = 86400
ONE_DAY = timedelta(days=1)
IDLE = {"pipeline_id": PIPE, "stage_id": LOST, "name": "Gone quiet", "kind": "idle", "from_stage_id": PROPOSAL}


@pytest.mark.unit
class TestIdleTriggerSpec:
    def test_days_and_hours_make_the_time(self) -> None:
        spec = TriggerSpec.model_validate(IDLE | {"days": 7, "hours": 12})
        assert spec.idle_for.total_seconds() == 7.5 * DAY

    @pytest.mark.parametrize(
        ("change", "complaint"),
        [
            ({"days": 7, "from_stage_id": None}, "needs `from_stage_id`"),
            ({"days": 7, "from_stage_id": LOST}, "must be another stage"),
            ({}, "needs `days` and/or `hours`"),
            ({"days": 0, "hours": 0}, "needs `days` and/or `hours`"),
            ({"days": 3650, "hours": 1}, "at most 3650 days"),
            ({"days": -1}, "greater than or equal to 0"),
            ({"kind": "webhook", "days": 7}, "only an idle trigger"),
            ({"kind": "webhook", "from_stage_id": PROPOSAL}, "only an idle trigger"),
        ],
    )
    def test_what_an_idle_trigger_needs_and_only_it_has(self, change: dict[str, Any], complaint: str) -> None:
        raw = {key: value for key, value in (IDLE | change).items() if value is not None}
        with pytest.raises(ValidationError, match=complaint):
            TriggerSpec.model_validate(raw)


async def add_idle_trigger(automation: Automation, **spec: Any) -> dict[str, Any]:
    response = await automation.http.post("/v1/triggers", json=IDLE | spec, headers=automation.headers())
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def on_stage(automation: Automation, stage: str = PROPOSAL) -> tuple[str, Envelope]:
    item_id: str = await automation.item("deal", client_name="Acme")
    moved = await automation.move(item_id, "deal", PIPE, NEW, stage)
    await automation.visits_settled([item_id], stage)
    return item_id, moved


async def change(automation: Automation, item_id: str, note: str = "called") -> Envelope:
    updated = entities.ItemUpdated(
        item_id=item_id, entity_type_id="deal", changes={"fields.note": {"old": None, "new": note}},
        updated_by="manager-1",
    )  # fmt: skip
    envelope: Envelope = await automation.publish(updated, subject=item_id)
    return envelope


async def moves(automation: Automation) -> list[tuple[str, str]]:
    return [(c["item_id"], c["to_stage_id"]) for c in await automation.commands(MOVE)]


async def idle_timers(automation: Automation, item_id: str) -> list[dict[str, Any]]:
    """The item's pending idle-trigger timers."""
    found: list[dict[str, Any]] = await automation.fetch(
        "SELECT due_at FROM timers WHERE tenant_id = $1 AND kind = 'idle_trigger' AND state = 'pending'"
        " AND payload->>'item_id' = $2 ORDER BY due_at",
        automation.tenant, item_id,
    )  # fmt: skip
    return found


async def after_the_timers_ran(automation: Automation) -> None:
    """Wait until no idle-trigger timer of the tenant is due and pending (the worker has had its go)."""

    async def due_and_pending() -> Any:
        return await automation.fetch(
            "SELECT 1 FROM timers WHERE tenant_id = $1 AND kind = 'idle_trigger' AND state = 'pending'"
            " AND due_at <= $2",
            automation.tenant,
            automation.now,
        )

    await automation.eventually(due_and_pending, lambda due: due == [])


@pytest.mark.integration
class TestIdleTrigger:
    async def test_an_item_unchanged_for_the_days_moves_once_and_the_firing_is_logged(
        self, automation: Automation
    ) -> None:
        trigger = await add_idle_trigger(automation, days=7)
        item_id, _ = await on_stage(automation)
        log = await automation.log(item_id)
        assert [(s["trigger_id"], datetime.fromisoformat(s["due_at"])) for s in log["scheduled"]] == [
            (trigger["id"], automation.now + 7 * ONE_DAY)
        ]

        automation.advance(7 * DAY - 60)
        await after_the_timers_ran(automation)
        assert await moves(automation) == []

        automation.advance(60)
        assert await automation.eventually(lambda: moves(automation), lambda found: len(found) == 1) == [
            (item_id, LOST)
        ]
        log = await automation.log(item_id)
        assert [(r["source_kind"], r["source_id"], r["status"]) for r in log["runs"]] == [
            ("trigger", trigger["id"], "succeeded")
        ]
        assert log["runs"][0]["detail"]["from_stage_id"] == PROPOSAL
        assert log["runs"][0]["detail"]["to_stage_id"] == LOST
        automation.advance(30 * DAY)
        await after_the_timers_ran(automation)
        assert await moves(automation) == [(item_id, LOST)]

    async def test_every_change_counts_again_and_leaving_the_stage_cancels(self, automation: Automation) -> None:
        await add_idle_trigger(automation, days=7)
        changed, leaving, quiet = [(await on_stage(automation))[0] for _ in range(3)]

        automation.advance(3 * DAY)
        await change(automation, changed)
        await automation.eventually(
            lambda: idle_timers(automation, changed), lambda found: [t["due_at"] for t in found] == [
                automation.now + 7 * ONE_DAY
            ],
        )  # fmt: skip
        automation.advance(2 * DAY)  # day 5
        await automation.move(leaving, "deal", PIPE, PROPOSAL, WON)
        await automation.visits_settled([leaving], WON)
        assert await idle_timers(automation, leaving) == []

        automation.advance(2 * DAY)  # day 7: only the quiet one
        assert await automation.eventually(lambda: moves(automation), lambda found: len(found) >= 1) == [(quiet, LOST)]
        automation.advance(3 * DAY - 60)  # a minute before day 10
        await after_the_timers_ran(automation)
        assert await moves(automation) == [(quiet, LOST)]
        automation.advance(60)  # day 10: the changed one
        found = await automation.eventually(lambda: moves(automation), lambda found: len(found) >= 2)
        assert found == [(quiet, LOST), (changed, LOST)]
        assert (await automation.log(leaving))["runs"] == []

    async def test_a_second_change_at_the_same_instant_keeps_the_count(self, automation: Automation) -> None:
        """Idle robots and idle triggers alike: a change that does not move the last change (the same
        instant, or an event older than the move that reaches us late) leaves the timers alone."""
        await add_idle_trigger(automation, days=7)
        await automation.add_robot(
            pipeline_id=PIPE, stage_id=PROPOSAL, name="Remind", timing={"mode": "idle", "seconds": 5 * DAY},
            action={"type": "notify", "recipients": [{"kind": "assignee"}], "body": "Call {{ item.client_name }}"},
        )  # fmt: skip
        item_id, _ = await on_stage(automation)
        await change(automation, item_id, "one")
        await change(automation, item_id, "two")
        await automation.eventually(
            lambda: automation.fetch(
                "SELECT 1 FROM automation_items WHERE tenant_id = $1 AND fields->>'note' = 'two'", automation.tenant
            ),
            lambda rows: len(rows) == 1,
        )

        automation.advance(5 * DAY)
        await automation.eventually(lambda: automation.commands(NOTIFY), lambda found: len(found) == 1)
        automation.advance(2 * DAY)
        assert await automation.eventually(lambda: moves(automation), lambda found: len(found) == 1) == [
            (item_id, LOST)
        ]

    async def test_a_trigger_saved_later_counts_for_items_already_there_changed_and_removed_it_stops(
        self, automation: Automation
    ) -> None:
        first, second = [(await on_stage(automation))[0] for _ in range(2)]
        automation.advance(2 * DAY)
        await change(automation, second)
        await automation.eventually(
            lambda: automation.fetch(
                "SELECT 1 FROM automation_items WHERE tenant_id = $1 AND last_change_at > entered_at",
                automation.tenant,
            ),
            lambda rows: len(rows) == 1,
        )
        entered = automation.now - 2 * ONE_DAY

        trigger = await add_idle_trigger(automation, days=7)
        assert [t["due_at"] for t in await idle_timers(automation, first)] == [entered + 7 * ONE_DAY]
        assert [t["due_at"] for t in await idle_timers(automation, second)] == [automation.now + 7 * ONE_DAY]

        changed = await automation.http.put(
            f"/v1/triggers/{trigger['id']}",
            json=IDLE | {"days": 10},
            headers={**automation.headers(), "If-Match": '"1"'},
        )
        assert changed.status_code == 200, changed.text
        assert [t["due_at"] for t in await idle_timers(automation, first)] == [entered + 10 * ONE_DAY]
        assert [t["due_at"] for t in await idle_timers(automation, second)] == [automation.now + 10 * ONE_DAY]

        automation.advance(8 * DAY)  # day 10 since the first entered
        assert await automation.eventually(lambda: moves(automation), lambda found: len(found) == 1) == [(first, LOST)]
        removed = await automation.http.delete(
            f"/v1/triggers/{trigger['id']}", headers={**automation.headers(), "If-Match": changed.headers["ETag"]}
        )
        assert removed.status_code == 204
        assert await idle_timers(automation, second) == []
        automation.advance(30 * DAY)
        await after_the_timers_ran(automation)
        assert await moves(automation) == [(first, LOST)]

    async def test_bad_idle_triggers_are_problems_and_only_admins_add_them(self, automation: Automation) -> None:
        for bad in ({"days": 7, "from_stage_id": LOST}, {"days": 0}, {"hours": 2, "kind": "webhook"}):
            response = await automation.http.post("/v1/triggers", json=IDLE | bad, headers=automation.headers())
            assert response.status_code == 422, response.text
            assert response.headers["content-type"].startswith("application/problem+json")
        manager = await automation.http.post(
            "/v1/triggers", json=IDLE | {"days": 7}, headers=automation.headers("manager-1", ())
        )
        assert manager.status_code == 403


@pytest.mark.integration
@pytest.mark.slow
class TestIdleTriggerAcrossRestartsAndRedelivery:
    async def test_each_item_moves_exactly_once(self, automation_harness: tuple[Automation, Callable[[], Any]]) -> None:
        automation, running = automation_harness
        delivered: list[tuple[Envelope, str]] = []
        async with running():
            await add_idle_trigger(automation, days=7)
            placed = [await on_stage(automation) for _ in range(6)]
            items = [item_id for item_id, _ in placed]
            delivered += [(moved, "conveyor.pipelines.item") for _, moved in placed]
            automation.advance(3 * DAY)
            changed = items[:2]
            delivered += [(await change(automation, item_id), "conveyor.entities.item") for item_id in changed]
            await automation.eventually(
                lambda: automation.fetch(
                    "SELECT 1 FROM automation_items WHERE tenant_id = $1 AND last_change_at > entered_at",
                    automation.tenant,
                ),
                lambda rows: len(rows) == len(changed),
            )

        async with running():  # restarted: Kafka hands it everything again
            for envelope, topic in delivered:
                await automation.redeliver(envelope, topic)
            automation.advance(4 * DAY)  # day 7
            quiet = items[len(changed) :]
            found = await automation.eventually(lambda: moves(automation), lambda found: len(found) >= len(quiet))
            assert sorted(found) == sorted((item_id, LOST) for item_id in quiet)

        async with running():
            for envelope, topic in delivered:
                await automation.redeliver(envelope, topic)
            automation.advance(3 * DAY)  # day 10
            found = await automation.eventually(lambda: moves(automation), lambda found: len(found) >= len(items))
            automation.advance(30 * DAY)
            await after_the_timers_ran(automation)
            assert sorted(await moves(automation)) == sorted((item_id, LOST) for item_id in items)
            logs = [await automation.log(item_id) for item_id in items]
            assert [len(log["runs"]) for log in logs] == [1] * len(items)
