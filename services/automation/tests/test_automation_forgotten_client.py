"""The forgotten-client story (seed 003) on the service: exact counts across restarts and redeliveries."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from typing import Any
from typing import Any as Automation  # the `automation_harness` fixture of conftest.py

import pytest
from conveyor_messaging.envelope import Envelope

pytestmark = [pytest.mark.integration, pytest.mark.slow]

NOTIFY = "conveyor.notifications.notification_command.notify.v1"
PIPE, NEW, PROPOSAL, WON = "pipe-sales", "st-new", "st-proposal", "st-won"
DAY = 86400
DEALS, CHANGED, LEAVING = 24, 4, 2
TEMPLATE = (
    "{{ assignee.first_name }}, remind {{ item.client_name }} of yourself: do the terms of our proposal suit them?"
)


async def notifications(automation: Automation) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = await automation.commands(NOTIFY)
    return found


async def exactly(automation: Automation, count: int) -> list[dict[str, Any]]:
    """Wait for ``count`` notifications, then make sure no more arrive."""
    sent = await automation.eventually(lambda: notifications(automation), lambda found: len(found) >= count)
    await asyncio.sleep(1.5)
    sent = await notifications(automation)
    assert len(sent) == count
    return sent


class TestForgottenClient:
    async def test_reminders_fire_once_per_deal_after_seven_and_fourteen_days(
        self, automation_harness: tuple[Automation, Callable[[], Any]]
    ) -> None:
        automation, running = automation_harness
        moves: list[Envelope] = []
        async with running():
            await automation.department("dep-sales", head="head-1")
            await automation.user("head-1", "Irina Head")
            for n in range(3):
                await automation.user(f"manager-{n}", f"Manager{n} Surname", departments=("dep-sales",))
            await automation.add_robot(
                pipeline_id=PIPE, stage_id=PROPOSAL, name="Remind after a week",
                timing={"mode": "idle", "seconds": 7 * DAY},
                action={"type": "notify", "recipients": [{"kind": "assignee"}], "body": TEMPLATE},
            )  # fmt: skip
            await automation.add_robot(
                pipeline_id=PIPE, stage_id=PROPOSAL, name="Tell the head after two weeks",
                timing={"mode": "idle", "seconds": 14 * DAY},
                action={"type": "notify", "recipients": [{"kind": "head_of_assignee"}], "body": TEMPLATE},
            )  # fmt: skip
            deals = []
            for n in range(DEALS):
                item_id = await automation.item("deal", assignee=f"manager-{n % 3}", client_name=f"Client {n}")
                deals.append(item_id)
                moves.append(await automation.move(item_id, "deal", PIPE, NEW, PROPOSAL))
            await automation.visits_settled(deals, PROPOSAL)
            await automation.eventually(
                lambda: automation.fetch("SELECT 1 FROM directory_users WHERE tenant_id = $1", automation.tenant),
                lambda rows: len(rows) == 4,
            )

            automation.advance(3 * DAY)
            changed = deals[:CHANGED]
            for item_id in changed:
                await automation.update(item_id, "deal", {"fields.note": {"old": None, "new": "called"}})
            await automation.eventually(
                lambda: automation.fetch(
                    "SELECT 1 FROM automation_items WHERE tenant_id = $1 AND last_change_at > entered_at",
                    automation.tenant,
                ),
                lambda rows: len(rows) == CHANGED,
            )

        # The service restarts; Kafka redelivers the moves it had already applied.
        async with running():
            for envelope in moves:
                await automation.redeliver(envelope, "conveyor.pipelines.item")
            automation.advance(2 * DAY)  # day 5: two deals leave the stage
            leaving = deals[CHANGED : CHANGED + LEAVING]
            for item_id in leaving:
                await automation.move(item_id, "deal", PIPE, PROPOSAL, WON)
            await automation.visits_settled(leaving, WON)

            automation.advance(2 * DAY)  # day 7
            quiet = deals[CHANGED + LEAVING :]
            sent = await exactly(automation, len(quiet))
            assert sorted(c["item"]["item_id"] for c in sent) == sorted(quiet)
            for command in sent:
                n = deals.index(command["item"]["item_id"])
                assert command["recipient_ids"] == [f"manager-{n % 3}"]
                assert command["body"] == (
                    f"Manager{n % 3}, remind Client {n} of yourself: do the terms of our proposal suit them?"
                )

        async with running():
            automation.advance(3 * DAY)  # day 10: the deals changed on day 3
            sent = await exactly(automation, len(quiet) + CHANGED)
            assert sorted(c["item"]["item_id"] for c in sent[len(quiet) :]) == sorted(changed)

            automation.advance(4 * DAY)  # day 14: the heads hear about the quiet ones
            sent = await exactly(automation, 2 * len(quiet) + CHANGED)
            heads = sent[len(quiet) + CHANGED :]
            assert {tuple(c["recipient_ids"]) for c in heads} == {("head-1",)}

            automation.advance(3 * DAY)  # day 17
            sent = await exactly(automation, 2 * (len(quiet) + CHANGED))

        per_deal = Counter(c["item"]["item_id"] for c in sent)
        assert all(per_deal[d] == 2 for d in quiet + changed)
        assert not any(per_deal[d] for d in leaving)
