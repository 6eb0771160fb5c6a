"""Robots, triggers and templates kept per tenant generation (revision 0010, adapters/kept_config.py):
a change of the configuration is seen by the next event, however much was kept before it."""

from __future__ import annotations

from typing import Any
from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest
from automation.adapters.kept_config import KeptConfig

pytestmark = pytest.mark.integration

NOTIFY = "conveyor.notifications.notification_command.notify.v1"
MOVE = "conveyor.pipelines.item_command.move.v1"
PIPE, NEW, PROPOSAL, WON = "pipe-sales", "st-new", "st-proposal", "st-won"


def notify(body: str) -> dict[str, Any]:
    return {"type": "notify", "recipients": [{"kind": "assignee"}], "body": body}


async def generation(automation: Automation) -> str | None:
    sql = "SELECT generation::text FROM config_generations WHERE tenant_id = $1"
    rows = await automation.fetch(sql, automation.tenant)
    return rows[0]["generation"] if rows else None


async def enter(automation: Automation, stage: str = PROPOSAL) -> str:
    item_id: str = await automation.item("deal", client_name="Acme")
    await automation.move(item_id, "deal", PIPE, NEW, stage)
    await automation.visits_settled([item_id], stage)
    return item_id


class TestAChangeIsSeenByTheNextEvent:
    async def test_robots_added_changed_and_removed_act_as_they_are_now(self, automation: Automation) -> None:
        robot = await automation.add_robot(pipeline_id=PIPE, stage_id=PROPOSAL, name="Remind", action=notify("first"))
        first = await enter(automation)  # the stage's robots are read, and kept
        await automation.eventually(lambda: automation.commands(NOTIFY), lambda found: len(found) == 1)
        spec = {"pipeline_id": PIPE, "stage_id": PROPOSAL, "name": "Remind", "action": notify("second")}
        changed = await automation.http.put(
            f"/v1/robots/{robot['id']}", json=spec, headers={**automation.headers(), "If-Match": "1"}
        )
        assert changed.status_code == 200, changed.text
        await automation.add_robot(
            pipeline_id=PIPE, stage_id=PROPOSAL, name="Added", position=2, action=notify("added")
        )

        second = await enter(automation)
        await automation.eventually(lambda: automation.commands(NOTIFY), lambda found: len(found) == 3)
        removed = await automation.http.delete(
            f"/v1/robots/{robot['id']}", headers={**automation.headers(), "If-Match": '"2"'}
        )
        assert removed.status_code in (200, 204), removed.text
        third = await enter(automation)

        sent = await automation.eventually(lambda: automation.commands(NOTIFY), lambda found: len(found) == 4)
        assert sorted((c["item"]["item_id"], c["body"]) for c in sent) == sorted(
            [(first, "first"), (second, "second"), (second, "added"), (third, "added")]
        )
        assert [r["source_name"] for r in (await automation.log(third))["runs"]] == ["Added"]

    async def test_a_trigger_added_after_its_pipeline_was_read_without_it_fires(self, automation: Automation) -> None:
        # The tenant has a generation (a robot), and its pipeline's field triggers are read on the first
        # change (none yet) and kept under it.
        await automation.add_robot(pipeline_id=PIPE, stage_id=NEW, name="Marker", action={"type": "wait"})
        item_id = await enter(automation)
        await automation.update(item_id, "deal", {"fields.contract": {"old": None, "new": "signed"}})
        await automation.eventually(
            lambda: automation.copy_of(item_id), lambda copy: copy["fields"].get("contract") == "signed"
        )
        before = await generation(automation)

        await automation.add_trigger(
            pipeline_id=PIPE, stage_id=WON, name="Signed", kind="field_value",
            when={"field": "contract", "op": "eq", "value": "signed"},
        )  # fmt: skip
        await automation.update(item_id, "deal", {"fields.contract": {"old": "signed", "new": "signed!"}})
        await automation.update(item_id, "deal", {"fields.contract": {"old": "signed!", "new": "signed"}})

        sent = await automation.eventually(lambda: automation.commands(MOVE), lambda found: len(found) == 1)
        assert sent[0]["to_stage_id"] == WON
        assert before is not None and await generation(automation) not in (None, before)


class TestGenerations:
    async def test_every_change_of_robots_triggers_templates_or_the_work_calendar_gives_a_new_generation(
        self, automation: Automation
    ) -> None:
        seen = [await generation(automation)]
        robot = await automation.add_robot(pipeline_id=PIPE, stage_id=PROPOSAL, name="One", action={"type": "wait"})
        seen.append(await generation(automation))
        spec = {"pipeline_id": PIPE, "stage_id": PROPOSAL, "name": "Two", "action": {"type": "wait"}}
        await automation.http.put(
            f"/v1/robots/{robot['id']}", json=spec, headers={**automation.headers(), "If-Match": "1"}
        )
        seen.append(await generation(automation))
        await automation.http.delete(f"/v1/robots/{robot['id']}", headers={**automation.headers(), "If-Match": "2"})
        seen.append(await generation(automation))
        trigger = {"pipeline_id": PIPE, "stage_id": WON, "name": "Paid", "kind": "webhook"}
        await automation.http.post("/v1/triggers", json=trigger, headers=automation.headers())
        seen.append(await generation(automation))
        calendar = {"time_zone": "Europe/Berlin"}
        await automation.http.put("/v1/work-calendar", json=calendar, headers={**automation.headers(), "If-Match": "0"})
        seen.append(await generation(automation))
        watched = await automation.fetch(
            "SELECT DISTINCT tgrelid::regclass::text AS config FROM pg_trigger WHERE tgname LIKE '%_config_changed'"
        )
        await automation.fetch("TRUNCATE robots")
        seen.append(await generation(automation))

        assert seen[0] is None and seen[-1] is None  # never configured, and after a truncate: nothing is kept
        assert None not in seen[1:-1] and len(set(seen[1:-1])) == 5
        assert sorted(r["config"] for r in watched) == ["process_templates", "robots", "triggers", "work_calendars"]


class TestKeptConfig:
    async def test_a_generation_keeps_what_was_read_and_another_reads_again(self) -> None:
        kept, reads = KeptConfig(size=2), []

        async def load() -> list[str]:
            reads.append(1)
            return [f"read {len(reads)}"]

        first = await kept.read("g1", "robots", load)
        first.append("changed by its caller")
        again = await kept.read("g1", "robots", load)
        other = await kept.read("g2", "robots", load)
        unkept = [await kept.read(None, "robots", load) for _ in range(2)]

        assert again == ["read 1"] and other == ["read 2"]
        assert unkept == [["read 3"], ["read 4"]]

    async def test_the_least_recently_used_entry_goes_first(self) -> None:
        kept, reads = KeptConfig(size=2), []

        async def load() -> list[int]:
            reads.append(1)
            return [len(reads)]

        for what in ("a", "b", "a", "c", "a", "b"):
            await kept.read("g", what, load)

        assert len(reads) == 4  # a, b, c, then b again: c pushed out b, a was used since
