"""Issue #20: one robot for every stage of a pipeline (``stage_id`` "*"): "notify the requester at each
stage change" without a robot per stage."""

from __future__ import annotations

from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest
from automation.domain.robots import RobotSpec
from pydantic import ValidationError

NOTIFY = "conveyor.notifications.notification_command.notify.v1"
TELL_THE_REQUESTER = {
    "type": "notify", "recipients": ["creator"], "kind": "request_stage",
    "body": "{{ item.title }} is now on {{ item.stage_id }}",
}  # fmt: skip


@pytest.mark.integration
class TestARobotOfEveryStage:
    async def test_it_acts_on_every_entry_to_every_stage_of_its_pipeline_and_of_no_other(
        self, automation: Automation
    ) -> None:
        await automation.add_robot(pipeline_id="pipe-req", stage_id="*", name="Tell", action=TELL_THE_REQUESTER)
        await automation.add_robot(pipeline_id="pipe-other", stage_id="*", name="Other", action=TELL_THE_REQUESTER)
        item_id = await automation.item("request")
        await automation.place(item_id, "request", "pipe-req", "st-new")
        await automation.visits_settled([item_id], "st-new")

        await automation.move(item_id, "request", "pipe-req", "st-new", "st-work")
        await automation.visits_settled([item_id], "st-work")
        await automation.move(item_id, "request", "pipe-req", "st-work", "st-done")

        sent = await automation.eventually(lambda: automation.commands(NOTIFY), lambda found: len(found) == 3)
        assert [s["body"].rsplit(" ", 1)[1] for s in sent] == ["st-new", "st-work", "st-done"]
        assert {tuple(s["recipient_ids"]) for s in sent} == {("admin-1",)}  # the item's creator
        assert {s["kind"] for s in sent} == {"request_stage"}
        log = await automation.log(item_id)
        assert [run["status"] for run in log["runs"]] == ["succeeded"] * 3

    async def test_it_is_listed_under_its_stage_star(self, automation: Automation) -> None:
        robot = await automation.add_robot(pipeline_id="pipe-req", stage_id="*", name="Tell", action=TELL_THE_REQUESTER)
        response = await automation.http.get(
            "/v1/robots", params={"pipeline_id": "pipe-req", "stage_id": "*"}, headers=automation.headers()
        )
        assert [r["id"] for r in response.json()["items"]] == [robot["id"]]


@pytest.mark.unit
def test_a_robot_of_every_stage_cannot_wait_for_a_previous_one() -> None:
    spec = {"pipeline_id": "p", "stage_id": "*", "name": "n", "action": TELL_THE_REQUESTER, "wait_for_previous": True}
    with pytest.raises(ValidationError, match="every stage"):
        RobotSpec.model_validate(spec)
