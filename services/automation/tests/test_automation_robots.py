"""Robots on a stage, driven by pipelines' and entities' events through Kafka and by the clock."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any
from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest
from conveyor_contracts import entities

pytestmark = pytest.mark.integration

NOTIFY = "conveyor.notifications.notification_command.notify.v1"
MOVE = "conveyor.pipelines.item_command.move.v1"
UPDATE = "conveyor.entities.item_command.update_fields.v1"
PIPE, NEW, PROPOSAL, WON = "pipe-sales", "st-new", "st-proposal", "st-won"


def notify(body: str = "{{ assignee.first_name }}, call {{ item.client_name }}", **extra: Any) -> dict[str, Any]:
    return {"type": "notify", "recipients": [{"kind": "assignee"}], "body": body, **extra}


async def on_stage(automation: Automation, stage: str = PROPOSAL, **fields: Any) -> str:
    item_id: str = await automation.item("deal", client_name="Acme", **fields)
    await automation.move(item_id, "deal", PIPE, NEW, stage)
    await automation.visits_settled([item_id], stage)
    return item_id


class TestRobotsRunWhenAnItemEntersTheirStage:
    async def test_an_at_once_robot_notifies_the_assignee_with_its_template(self, automation: Automation) -> None:
        await automation.user("manager-1", "Olga Petrova")
        await automation.add_robot(pipeline_id=PIPE, stage_id=PROPOSAL, name="Remind", action=notify())
        # The user travels on the directory's topic, the item on its own: the robot names her only once
        # automation's copy of the directory has her (until then it says her id).
        await automation.eventually(
            lambda: automation.fetch(
                "SELECT 1 FROM directory_users WHERE tenant_id = $1 AND user_id = 'manager-1'", automation.tenant
            ),
            lambda rows: len(rows) == 1,
        )

        item_id = await on_stage(automation)

        sent = await automation.eventually(lambda: automation.commands(NOTIFY), lambda found: len(found) == 1)
        assert sent[0]["recipient_ids"] == ["manager-1"]
        assert sent[0]["body"] == "Olga, call Acme"
        assert sent[0]["item"]["item_id"] == item_id
        log = await automation.log(item_id)
        assert [(r["source_name"], r["status"]) for r in log["runs"]] == [("Remind", "succeeded")]

    async def test_an_at_once_robot_runs_in_the_moves_own_transaction_without_a_timer(
        self, automation: Automation
    ) -> None:
        """The move's consumer runs it (issue 18): the notice is sent in the transaction that records the
        visit, and no durable timer stands between the move and the robot."""
        await automation.add_robot(pipeline_id=PIPE, stage_id=PROPOSAL, name="Remind", action=notify())
        item_id: str = await automation.item("deal", client_name="Acme")
        await automation.eventually(lambda: automation.copy_of(item_id), lambda copy: copy and copy["created"])

        await automation.move(item_id, "deal", PIPE, NEW, PROPOSAL)

        sent = await automation.eventually(lambda: automation.commands(NOTIFY), lambda found: len(found) == 1)
        assert sent[0]["item"]["item_id"] == item_id
        timers = await automation.fetch(
            "SELECT timer_key FROM timers WHERE tenant_id = $1 AND payload->>'item_id' = $2", automation.tenant, item_id
        )
        assert timers == []
        visit = await automation.fetch(
            "SELECT r.status, r.visit_id = i.visit_id AS this_visit FROM automation_runs r"
            " JOIN automation_items i USING (tenant_id, item_id) WHERE r.tenant_id = $1 AND r.item_id = $2",
            automation.tenant, item_id,
        )  # fmt: skip
        assert visit == [{"status": "succeeded", "this_visit": True}]

    async def test_a_robot_of_another_stage_does_not_run(self, automation: Automation) -> None:
        await automation.add_robot(pipeline_id=PIPE, stage_id=WON, name="Congratulate", action=notify())
        await automation.add_robot(pipeline_id=PIPE, stage_id=PROPOSAL, name="Marker", action={"type": "wait"})

        item_id = await on_stage(automation)

        log = await automation.eventually(lambda: automation.log(item_id), lambda found: len(found["runs"]) == 1)
        assert log["runs"][0]["source_name"] == "Marker"
        assert await automation.commands(NOTIFY) == []

    async def test_a_delayed_robot_waits_for_the_clock(self, automation: Automation) -> None:
        robot = await automation.add_robot(
            pipeline_id=PIPE, stage_id=PROPOSAL, name="Later", timing={"mode": "after_delay", "seconds": 3600},
            action={"type": "set_fields", "fields": {"status": "waiting", "title": "Checked"}},
        )  # fmt: skip
        item_id = await on_stage(automation)
        log = await automation.eventually(lambda: automation.log(item_id), lambda found: len(found["scheduled"]) == 1)
        assert log["scheduled"][0]["robot_id"] == robot["id"]

        automation.advance(3599)
        assert await automation.commands(UPDATE) == []
        automation.advance(1)

        sent = await automation.eventually(lambda: automation.commands(UPDATE), lambda found: len(found) == 1)
        assert sent[0]["changes"] == {"title": "Checked", "fields": {"status": "waiting"}}

    async def test_leaving_the_stage_cancels_what_was_scheduled(self, automation: Automation) -> None:
        await automation.add_robot(
            pipeline_id=PIPE, stage_id=PROPOSAL, name="Later", timing={"mode": "after_delay", "seconds": 600},
            action=notify(),
        )  # fmt: skip
        item_id = await on_stage(automation)
        await automation.move(item_id, "deal", PIPE, PROPOSAL, WON)
        await automation.visits_settled([item_id], WON)

        automation.advance(601)
        await automation.add_robot(pipeline_id=PIPE, stage_id=NEW, name="Probe", action={"type": "wait"})
        await automation.move(item_id, "deal", PIPE, WON, NEW)
        await automation.eventually(lambda: automation.log(item_id), lambda found: len(found["runs"]) == 1)
        assert await automation.commands(NOTIFY) == []

    async def test_a_robot_whose_condition_fails_is_logged_as_skipped(self, automation: Automation) -> None:
        await automation.add_robot(
            pipeline_id=PIPE, stage_id=PROPOSAL, name="Big deals", action=notify(),
            condition={"all": [{"field": "amount_eur", "op": "gt", "value": 1000}]},
        )  # fmt: skip
        item_id = await on_stage(automation, amount_eur=500)

        log = await automation.eventually(lambda: automation.log(item_id), lambda found: len(found["runs"]) == 1)
        assert log["runs"][0]["status"] == "skipped"
        assert log["runs"][0]["detail"]["reason"] == "the condition did not hold"

    async def test_a_robot_may_wait_for_the_one_before_it(self, automation: Automation) -> None:
        await automation.add_robot(
            pipeline_id=PIPE, stage_id=PROPOSAL, name="Pause", position=1,
            timing={"mode": "after_delay", "seconds": 300}, action={"type": "wait"},
        )  # fmt: skip
        await automation.add_robot(
            pipeline_id=PIPE, stage_id=PROPOSAL, name="Then move", position=2, wait_for_previous=True,
            action={"type": "move_to_stage", "stage_id": WON},
        )  # fmt: skip
        await on_stage(automation)

        automation.advance(299)
        assert await automation.commands(MOVE) == []
        automation.advance(1)

        sent = await automation.eventually(lambda: automation.commands(MOVE), lambda found: len(found) == 1)
        assert sent[0]["to_stage_id"] == WON


class TestAVisitTheServiceHearsOfLate:
    """The service was down (or behind) while an item came and went: what was due during the visit
    runs once, as it would have without the delay (found by tests/faults, the chaos run)."""

    async def test_an_at_once_robot_still_runs_for_an_item_that_has_left_its_stage(
        self, automation_harness: tuple[Automation, Any]
    ) -> None:
        automation, running = automation_harness
        async with running():
            await automation.add_robot(pipeline_id=PIPE, stage_id=PROPOSAL, name="Tell", action=notify())
        item_id: str = await automation.item("deal", client_name="Acme")
        await automation.place(item_id, "deal", PIPE, NEW)
        await automation.move(item_id, "deal", PIPE, NEW, PROPOSAL)
        await automation.move(item_id, "deal", PIPE, PROPOSAL, NEW)

        async with running():
            await automation.visits_settled([item_id], NEW)
            sent = await automation.eventually(lambda: automation.commands(NOTIFY), lambda found: len(found) == 1)
            log = await automation.eventually(lambda: automation.log(item_id), lambda found: found["runs"])
        assert sent[0]["item"]["item_id"] == item_id
        assert [(r["source_name"], r["status"]) for r in log["runs"]] == [("Tell", "succeeded")]

    async def test_a_robot_waits_for_the_items_creation_when_its_placement_came_first(
        self, automation: Automation
    ) -> None:
        # Found by tests/faults (automation replicas coming and going): the two topics do not order
        # each other, and a robot that fired on a copy made from the placement alone had nobody to
        # notify (skipped) although the item has an assignee.
        await automation.add_robot(pipeline_id=PIPE, stage_id=PROPOSAL, name="Tell", action=notify())
        item_id = f"item-{uuid.uuid4().hex[:12]}"
        await automation.move(item_id, "deal", PIPE, NEW, PROPOSAL)
        await automation.visits_settled([item_id], PROPOSAL)

        async def waiting() -> list[dict[str, Any]]:
            found: list[dict[str, Any]] = await automation.fetch(
                "SELECT timer_key FROM timers WHERE state = 'pending' AND timer_key LIKE '%until-created%'"
            )
            return found

        await automation.eventually(waiting, lambda found: len(found) == 1)
        assert await automation.commands(NOTIFY) == []
        created = entities.ItemCreated(
            item_id=item_id, entity_type_id="deal", title="Deal late", assignee_id="manager-1",
            created_by="admin-1", fields={"client_name": "Acme"},
        )  # fmt: skip
        await automation.publish(created, subject=item_id)
        await automation.eventually(lambda: automation.copy_of(item_id), lambda copy: copy and copy["created"])
        automation.advance(30)

        sent = await automation.eventually(lambda: automation.commands(NOTIFY), lambda found: len(found) == 1)
        assert sent[0]["recipient_ids"] == ["manager-1"] and sent[0]["body"] == "manager-1, call Acme"
        log = await automation.log(item_id)
        assert [(r["source_name"], r["status"]) for r in log["runs"]] == [("Tell", "succeeded")]

    async def test_a_late_move_robot_does_not_undo_where_the_item_went_since(
        self, automation_harness: tuple[Automation, Any]
    ) -> None:
        automation, running = automation_harness
        async with running():
            await automation.add_robot(
                pipeline_id=PIPE, stage_id=PROPOSAL, name="On to won", action={"type": "move_to_stage", "stage_id": WON}
            )
        item_id: str = await automation.item("deal")
        await automation.move(item_id, "deal", PIPE, NEW, PROPOSAL)
        await automation.move(item_id, "deal", PIPE, PROPOSAL, NEW)

        async with running():
            await automation.visits_settled([item_id], NEW)
            log = await automation.eventually(lambda: automation.log(item_id), lambda found: found["runs"])
            assert await automation.commands(MOVE) == []
        assert [(r["source_name"], r["status"]) for r in log["runs"]] == [("On to won", "skipped")]
        assert log["runs"][0]["detail"]["reason"] == "the item left the stage"


class TestFailures:
    async def test_a_failing_action_is_retried_with_backoff_and_by_hand(self, automation: Automation) -> None:
        await automation.add_robot(
            pipeline_id=PIPE, stage_id=PROPOSAL, name="Long title", action=notify(title="{{ item.headline }}")
        )
        item_id = await on_stage(automation, headline="x" * 600)  # longer than a notification title may be

        log = await automation.eventually(
            lambda: automation.log(item_id), lambda found: found["runs"] and found["runs"][0]["status"] == "retrying"
        )
        run = log["runs"][0]
        assert "title" in run["error"] and run["attempts"] == 1
        # Every instant of the log in UTC with Z, those the run's detail records too.
        assert run["created_at"].endswith("Z") and run["due_at"].endswith("Z")
        assert run["detail"]["next_attempt_at"] == "2026-03-02T09:00:10Z"
        automation.advance(10)
        await automation.eventually(lambda: automation.log(item_id), lambda found: found["runs"][0]["attempts"] == 2)

        await automation.update(item_id, "deal", {"fields.headline": {"old": "x" * 600, "new": "Short"}})
        await automation.eventually(
            lambda: automation.copy_of(item_id), lambda copy: copy is not None and copy["fields"]["headline"] == "Short"
        )
        response = await automation.http.post(
            f"/v1/automation-log/{item_id}/runs/{run['id']}/retry", headers=automation.headers()
        )
        assert response.status_code == 202, response.text
        assert (response.json()["status"], response.json()["detail"]["retried_by_hand_at"]) == (
            "scheduled",
            "2026-03-02T09:00:10Z",
        )
        automation.advance(0)

        log = await automation.eventually(
            lambda: automation.log(item_id), lambda found: found["runs"][0]["status"] == "succeeded"
        )
        assert log["runs"][0]["attempts"] == 3
        assert [c["title"] for c in await automation.commands(NOTIFY)] == ["Short"]

    async def test_a_run_that_succeeded_cannot_be_retried(self, automation: Automation) -> None:
        await automation.add_robot(pipeline_id=PIPE, stage_id=PROPOSAL, name="Mark", action={"type": "wait"})
        item_id = await on_stage(automation)
        log = await automation.eventually(lambda: automation.log(item_id), lambda found: len(found["runs"]) == 1)

        response = await automation.http.post(
            f"/v1/automation-log/{item_id}/runs/{log['runs'][0]['id']}/retry", headers=automation.headers()
        )
        assert response.status_code == 409


class TestRecipients:
    async def test_a_role_reaches_its_holders_and_an_absent_one_is_replaced_by_the_substitute(
        self, automation: Automation
    ) -> None:
        from conveyor_contracts.directory import AbsenceRecorded

        await automation.user("m-1", "Anna A", roles=("manager",))
        await automation.user("m-2", "Boris B", roles=("manager",))
        await automation.user("sub-1", "Vera V")
        await automation.publish(
            AbsenceRecorded(
                absence_id="abs-1", user_id="m-2", starts_at=automation.now, ends_at=automation.now.replace(year=2027),
                substitute_user_id="sub-1",
            ),
            subject="abs-1",
        )  # fmt: skip
        await automation.department("dep-sales", head="boss-1")
        await automation.user("boss-1", "Gleb G")
        await automation.user("manager-1", "Olga O", departments=("dep-sales",))
        await automation.add_robot(
            pipeline_id=PIPE, stage_id=PROPOSAL, name="Team",
            action=notify(recipients=[{"kind": "role", "id": "manager"}, {"kind": "head_of_assignee"}]),
        )  # fmt: skip

        async def directory_loaded() -> list[dict[str, Any]]:
            rows: list[dict[str, Any]] = await automation.fetch(
                "SELECT * FROM directory_absences WHERE tenant_id = $1", automation.tenant
            )
            return rows

        await automation.eventually(directory_loaded, lambda rows: len(rows) == 1)
        await automation.eventually(
            lambda: automation.fetch("SELECT * FROM directory_users WHERE tenant_id = $1", automation.tenant),
            lambda rows: len(rows) == 5,
        )
        await on_stage(automation)

        sent = await automation.eventually(lambda: automation.commands(NOTIFY), lambda found: len(found) == 1)
        assert sent[0]["recipient_ids"] == ["m-1", "sub-1", "boss-1"]


class TestRobotsApi:
    async def test_a_template_reaching_for_python_internals_is_refused_when_saved(self, automation: Automation) -> None:
        response = await automation.http.post(
            "/v1/robots",
            json={
                "pipeline_id": PIPE,
                "stage_id": PROPOSAL,
                "name": "Bad",
                "action": notify("{{ ''.__class__.__mro__ }}"),
            },
            headers=automation.headers(),
        )
        assert response.status_code == 422
        assert "not allowed" in response.text

    async def test_a_position_beyond_the_integer_column_is_a_422_not_a_500(self, automation: Automation) -> None:
        # Found by schemathesis (tests/security): 3834353521 overflowed the int4 column.
        spec = {"pipeline_id": PIPE, "stage_id": PROPOSAL, "name": "Far", "action": {"type": "wait"}}

        response = await automation.http.post(
            "/v1/robots", json={**spec, "position": 3_834_353_521}, headers=automation.headers()
        )

        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "/body/position"

    async def test_a_robot_answers_as_written_with_its_start_in_utc(self, automation: Automation) -> None:
        condition = {"not": {"field": "status", "op": "eq", "value": "lost"}}
        action = {
            "type": "create_calendar_entry",
            "title": "Call {{ item.client_name }}",
            "start": "2026-03-05T12:00:00+02:00",
        }

        robot = await automation.add_robot(
            pipeline_id=PIPE, stage_id=PROPOSAL, name="Book", condition=condition, action=action
        )
        found = await automation.http.get(f"/v1/robots/{robot['id']}", headers=automation.headers())

        assert found.json() == robot
        assert robot["condition"] == condition
        assert (robot["action"]["type"], robot["action"]["start"]) == ("create_calendar_entry", "2026-03-05T10:00:00Z")

    async def test_only_admins_configure_robots_and_other_tenants_see_nothing(self, automation: Automation) -> None:
        robot = await automation.add_robot(pipeline_id=PIPE, stage_id=PROPOSAL, name="Mine", action={"type": "wait"})
        spec = {"pipeline_id": PIPE, "stage_id": PROPOSAL, "name": "X", "action": {"type": "wait"}}

        as_manager = await automation.http.post(
            "/v1/robots", json=spec, headers=automation.headers("m-1", ("manager",))
        )
        tenant = automation.tenant
        automation.tenant = "another-tenant"
        elsewhere = await automation.http.get(f"/v1/robots/{robot['id']}", headers=automation.headers())
        automation.tenant = tenant

        assert as_manager.status_code == 403
        assert elsewhere.status_code == 404
        listed = await automation.http.get("/v1/robots", params={"pipeline_id": PIPE}, headers=automation.headers())
        assert [r["name"] for r in listed.json()["items"]] == ["Mine"]

    async def test_changing_a_robot_checks_its_version(self, automation: Automation) -> None:
        robot = await automation.add_robot(pipeline_id=PIPE, stage_id=PROPOSAL, name="One", action={"type": "wait"})
        spec = {"pipeline_id": PIPE, "stage_id": PROPOSAL, "name": "Two", "action": {"type": "wait"}}

        changed = await automation.http.put(
            f"/v1/robots/{robot['id']}", json=spec, headers={**automation.headers(), "If-Match": "1"}
        )
        stale = await automation.http.put(
            f"/v1/robots/{robot['id']}", json=spec, headers={**automation.headers(), "If-Match": "1"}
        )

        assert changed.status_code == 200 and changed.json()["version"] == 2
        assert stale.status_code == 412
        assert stale.json()["type"].endswith("/version-mismatch")

    async def test_a_version_below_one_is_bad_input_not_a_server_error(self, automation: Automation) -> None:
        """The stateful fuzzer sent If-Match: -104613 and got a 500 from the event store."""
        robot = await automation.add_robot(pipeline_id=PIPE, stage_id=PROPOSAL, name="One", action={"type": "wait"})
        spec = {"pipeline_id": PIPE, "stage_id": PROPOSAL, "name": "Two", "action": {"type": "wait"}}

        for version in ("-104613", "-1", "0", '"99999999999"', "W/", b"\xb2"):  # the last: a superscript two
            refused = await automation.http.put(
                f"/v1/robots/{robot['id']}", json=spec, headers={**automation.headers(), "If-Match": version}
            )
            assert refused.status_code == 400, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.json()["type"].endswith("/bad-if-match")

    async def test_if_match_takes_the_etag_as_given_quoted_or_weak(self, automation: Automation) -> None:
        """Robots parsed If-Match as a bare integer, so the ETag form `"1"` was a 422 (issue #19)."""
        robot = await automation.add_robot(pipeline_id=PIPE, stage_id=PROPOSAL, name="One", action={"type": "wait"})
        path, spec = (
            f"/v1/robots/{robot['id']}",
            {"pipeline_id": PIPE, "stage_id": PROPOSAL, "action": {"type": "wait"}},
        )

        first = await automation.http.put(
            path, json={**spec, "name": "Two"}, headers={**automation.headers(), "If-Match": '"1"'}
        )
        second = await automation.http.put(
            path, json={**spec, "name": "Three"}, headers={**automation.headers(), "If-Match": 'W/"2"'}
        )
        stale = await automation.http.put(
            path, json={**spec, "name": "Four"}, headers={**automation.headers(), "If-Match": '"2"'}
        )

        assert (first.status_code, second.status_code, stale.status_code) == (200, 200, 412)
        assert second.json()["version"] == 3

    async def test_a_change_or_removal_without_if_match_is_refused_and_a_read_gives_the_etag(
        self, automation: Automation
    ) -> None:
        robot = await automation.add_robot(pipeline_id=PIPE, stage_id=PROPOSAL, name="One", action={"type": "wait"})
        path, spec = (
            f"/v1/robots/{robot['id']}",
            {"pipeline_id": PIPE, "stage_id": PROPOSAL, "action": {"type": "wait"}},
        )

        unnamed_change = await automation.http.put(path, json={**spec, "name": "Two"}, headers=automation.headers())
        unnamed_removal = await automation.http.delete(path, headers=automation.headers())
        read = await automation.http.get(path, headers=automation.headers())
        changed = await automation.http.put(
            path, json={**spec, "name": "Two"}, headers={**automation.headers(), "If-Match": read.headers["ETag"]}
        )
        stale_removal = await automation.http.delete(path, headers={**automation.headers(), "If-Match": '"1"'})
        removed = await automation.http.delete(
            path, headers={**automation.headers(), "If-Match": changed.headers["ETag"]}
        )

        assert (unnamed_change.status_code, unnamed_removal.status_code) == (428, 428)
        assert unnamed_change.json()["type"].endswith("/precondition-required")
        assert read.headers["ETag"] == '"1"' and changed.headers["ETag"] == '"2"'
        assert stale_removal.status_code == 412 and stale_removal.json()["current_version"] == 2
        assert removed.status_code == 204
        assert (await automation.http.get(path, headers=automation.headers())).status_code == 404

    async def test_a_pipelines_robots_are_listed_by_stage_and_position_in_pages(self, automation: Automation) -> None:
        wait = {"type": "wait"}
        for stage, name, position in [(WON, "Third", 0), (PROPOSAL, "Second", 1), (PROPOSAL, "First", 0)]:
            await automation.add_robot(pipeline_id=PIPE, stage_id=stage, name=name, position=position, action=wait)

        async def page(**params: Any) -> Any:
            response = await automation.http.get(
                "/v1/robots", params={"pipeline_id": PIPE, **params}, headers=automation.headers()
            )
            assert response.status_code == 200, response.text
            return response.json()

        one = await page(limit=2)
        two = await page(limit=2, cursor=one["next_cursor"])
        of_stage = await page(stage_id=PROPOSAL)
        refused = await automation.http.get(
            "/v1/robots", params={"pipeline_id": PIPE, "cursor": "bm90LW91cnM"}, headers=automation.headers()
        )

        # By stage id (st-proposal before st-won), then position.
        assert [r["name"] for r in one["items"] + two["items"]] == ["First", "Second", "Third"]
        assert two["next_cursor"] is None
        assert [r["name"] for r in of_stage["items"]] == ["First", "Second"] and of_stage["next_cursor"] is None
        assert refused.status_code == 422 and refused.json()["type"].endswith("/invalid-cursor")


class TestTriggers:
    async def test_a_webhook_trigger_moves_the_item_to_its_stage(self, automation: Automation) -> None:
        created = await automation.http.post(
            "/v1/triggers",
            json={"pipeline_id": PIPE, "stage_id": WON, "name": "Paid", "kind": "webhook"},
            headers=automation.headers(),
        )
        assert created.status_code == 201, created.text
        path = created.json()["webhook_path"]
        item_id = await on_stage(automation)

        wrong = await automation.http.post(path[:-3] + "abc", json={"item_id": item_id})
        fired = await automation.http.post(path, json={"item_id": item_id}, headers={"Idempotency-Key": "pay-1"})
        again = await automation.http.post(path, json={"item_id": item_id}, headers={"Idempotency-Key": "pay-1"})

        assert wrong.status_code == 404
        assert fired.status_code == 202 and again.json()["run_id"] == fired.json()["run_id"]
        assert [(c["item_id"], c["to_stage_id"]) for c in await automation.commands(MOVE)] == [(item_id, WON)]
        log = await automation.log(item_id)
        assert [(r["source_kind"], r["source_name"], r["status"]) for r in log["runs"]] == [
            ("trigger", "Paid", "succeeded")
        ]

    async def test_a_field_reaching_a_value_moves_the_item(self, automation: Automation) -> None:
        await automation.add_trigger(
            pipeline_id=PIPE, stage_id=WON, name="Signed", kind="field_value",
            when={"field": "contract", "op": "eq", "value": "signed"},
        )  # fmt: skip
        item_id = await on_stage(automation, contract="draft")

        await automation.update(item_id, "deal", {"fields.contract": {"old": "draft", "new": "review"}})
        await automation.update(item_id, "deal", {"fields.contract": {"old": "review", "new": "signed"}})

        sent = await automation.eventually(lambda: automation.commands(MOVE), lambda found: len(found) == 1)
        assert sent[0]["to_stage_id"] == WON

    async def test_a_trigger_is_read_with_its_etag_and_changed_or_removed_only_with_if_match(
        self, automation: Automation
    ) -> None:
        spec = {"pipeline_id": PIPE, "stage_id": WON, "name": "Paid", "kind": "webhook"}
        trigger = await automation.add_trigger(**spec)
        path = f"/v1/triggers/{trigger['id']}"

        read = await automation.http.get(path, headers=automation.headers())
        unnamed = await automation.http.put(path, json={**spec, "name": "Settled"}, headers=automation.headers())
        changed = await automation.http.put(
            path, json={**spec, "name": "Settled"}, headers={**automation.headers(), "If-Match": read.headers["ETag"]}
        )
        stale = await automation.http.delete(path, headers={**automation.headers(), "If-Match": read.headers["ETag"]})
        unnamed_removal = await automation.http.delete(path, headers=automation.headers())
        removed = await automation.http.delete(
            path, headers={**automation.headers(), "If-Match": changed.headers["ETag"]}
        )

        assert read.status_code == 200 and read.headers["ETag"] == '"1"' and "webhook_path" not in read.json()
        assert {k: read.json()[k] for k in ("id", "version", "name")} == {
            "id": trigger["id"],
            "version": 1,
            "name": "Paid",
        }
        assert (unnamed.status_code, unnamed_removal.status_code) == (428, 428)
        assert (changed.status_code, changed.headers["ETag"], changed.json()["name"]) == (200, '"2"', "Settled")
        assert stale.status_code == 412 and stale.json()["type"].endswith("/version-mismatch")
        assert removed.status_code == 204
        assert (await automation.http.get(path, headers=automation.headers())).status_code == 404

    async def test_a_pipelines_triggers_are_listed_by_name_in_pages(self, automation: Automation) -> None:
        for name in ("Refund", "Paid", "Cancelled"):
            await automation.add_trigger(pipeline_id=PIPE, stage_id=WON, name=name, kind="webhook")

        async def page(**params: Any) -> Any:
            response = await automation.http.get(
                "/v1/triggers", params={"pipeline_id": PIPE, **params}, headers=automation.headers()
            )
            assert response.status_code == 200, response.text
            return response.json()

        one = await page(limit=2)
        two = await page(limit=2, cursor=one["next_cursor"])

        assert [t["name"] for t in one["items"] + two["items"]] == ["Cancelled", "Paid", "Refund"]
        assert two["next_cursor"] is None and "webhook_path" not in one["items"][0]


class TestListFields:
    async def test_conditions_and_templates_see_the_labels_of_list_options(self, automation: Automation) -> None:
        from conveyor_contracts import entities

        status = entities.FieldDefinition(
            field_id="f-1", code="status", label="Status", kind="list",
            options=[
                entities.Option(id="opt-imp", label="Imported"), entities.Option(id="opt-prog", label="In progress")
            ],
        )  # fmt: skip
        industry = entities.FieldDefinition(
            field_id="f-2", code="industry", label="Industry", kind="list", dictionary_id="dict-1"
        )
        await automation.publish(entities.FieldAdded(entity_type_id="deal", field=status), subject="deal")
        await automation.publish(entities.FieldAdded(entity_type_id="deal", field=industry), subject="deal")
        await automation.publish(
            entities.DictionaryCreated(
                dictionary_id="dict-1", code="industry", name="Industry",
                options=[entities.Option(id="opt-h", label="Housing & utilities")],
            ),
            subject="dict-1",
        )  # fmt: skip
        await automation.add_robot(
            pipeline_id=PIPE, stage_id=PROPOSAL, name="Labels",
            condition={"all": [{"field": "status", "value": "In progress"}, {"expression": "industry != 'Energy'"}]},
            action=notify("{{ item.status }} / {{ item.industry }}"),
        )  # fmt: skip
        await automation.eventually(
            lambda: automation.fetch("SELECT 1 FROM automation_dictionaries WHERE tenant_id = $1", automation.tenant),
            lambda rows: len(rows) == 1,
        )

        await on_stage(automation, status="opt-prog", industry="opt-h")

        sent = await automation.eventually(lambda: automation.commands(NOTIFY), lambda found: len(found) == 1)
        assert sent[0]["body"] == "In progress / Housing & utilities"


class TestDateFieldRobots:
    async def test_a_robot_before_a_date_moves_with_the_date_and_waits_for_an_empty_one(
        self, automation: Automation
    ) -> None:
        await automation.add_robot(
            pipeline_id=PIPE, stage_id=PROPOSAL, name="Before the meeting",
            timing={"mode": "before_field", "field": "meeting_at", "seconds": 3600},
            action={"type": "set_fields", "fields": {"reminded": "yes"}},
        )  # fmt: skip
        day1 = (automation.now + timedelta(days=1)).isoformat()
        day2 = (automation.now + timedelta(days=2)).isoformat()
        moved = await on_stage(automation, meeting_at=day1)
        empty = await on_stage(automation)
        await automation.eventually(lambda: automation.log(empty), lambda found: len(found["runs"]) == 1)

        await automation.update(moved, "deal", {"fields.meeting_at": {"old": day1, "new": day2}})
        await automation.update(empty, "deal", {"fields.meeting_at": {"old": None, "new": day1}})
        await automation.eventually(
            lambda: automation.log(moved),
            lambda found: (
                found["scheduled"]
                and datetime.fromisoformat(found["scheduled"][0]["due_at"]) > datetime.fromisoformat(day1)
            ),
        )
        automation.advance(23 * 3600)

        sent = await automation.eventually(lambda: automation.commands(UPDATE), lambda found: len(found) == 1)
        assert sent[0]["item_id"] == empty
        automation.advance(24 * 3600)
        sent = await automation.eventually(lambda: automation.commands(UPDATE), lambda found: len(found) == 2)
        assert sent[1]["item_id"] == moved
