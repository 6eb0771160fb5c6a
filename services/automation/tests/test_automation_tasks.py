"""The task inbox: tasks from robots for a user or a role, completed with a form and an outcome, delegated."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar
from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest
from automation.domain.tasks import CompletionRefused, FormField, Outcome, check_completion
from conveyor_contracts.directory import AbsenceRecorded

PIPE, NEW, STAGE = "pipe-onboarding", "st-new", "st-call"
MEETING_FORM = [
    {"code": "next_call_at", "label": "Next call date", "kind": "datetime"},
    {"code": "meeting_at", "label": "Meeting date", "kind": "datetime"},
]
OUTCOMES = [
    {"id": "next_call", "label": "Next call", "requires": ["next_call_at"]},
    {"id": "meeting", "label": "Meeting set", "requires": ["meeting_at"]},
    {"id": "reject", "label": "Reject"},
]


class TestCompletionRules:
    pytestmark = pytest.mark.unit

    form: ClassVar = [FormField.model_validate(f) for f in MEETING_FORM]
    outcomes: ClassVar = [Outcome.model_validate(o) for o in OUTCOMES]

    def test_an_outcome_may_require_fields_of_the_form(self) -> None:
        check_completion(self.form, self.outcomes, "meeting", {"meeting_at": "2026-03-05T10:00:00Z"})
        check_completion(self.form, self.outcomes, "reject", {})
        with pytest.raises(CompletionRefused) as refused:
            check_completion(self.form, self.outcomes, "meeting", {"next_call_at": "2026-03-05T10:00:00Z"})
        assert refused.value.errors == [{"field": "/values/meeting_at", "message": "required"}]

    def test_unknown_outcomes_fields_and_bad_dates_are_refused(self) -> None:
        with pytest.raises(CompletionRefused) as refused:
            check_completion(self.form, self.outcomes, "maybe", {"colour": "red", "next_call_at": "tomorrow"})
        assert {e["field"] for e in refused.value.errors} == {"/outcome", "/values/colour", "/values/next_call_at"}


async def task_robot(automation: Automation, assignee: dict[str, Any], **extra: Any) -> None:
    await automation.add_robot(
        pipeline_id=PIPE, stage_id=STAGE, name="Ask about the meeting",
        action={"type": "create_task", "title": "Was a meeting set with {{ item.title }}?", "assignee": assignee,
                "form": MEETING_FORM, "outcomes": OUTCOMES, **extra},
    )  # fmt: skip


async def item_on_stage(automation: Automation) -> str:
    item_id: str = await automation.item("company", assignee="manager-1")
    await automation.move(item_id, "company", PIPE, NEW, STAGE)
    await automation.visits_settled([item_id], STAGE)
    return item_id


async def inbox(automation: Automation, user: str, roles: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    response = await automation.http.get("/v1/tasks/inbox", headers=automation.headers(user, roles))
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


async def directory_has(automation: Automation, users: int, absences: int = 0) -> None:
    async def counts() -> tuple[int, int]:
        u = await automation.fetch("SELECT 1 FROM directory_users WHERE tenant_id = $1", automation.tenant)
        a = await automation.fetch("SELECT 1 FROM directory_absences WHERE tenant_id = $1", automation.tenant)
        return len(u), len(a)

    await automation.eventually(counts, lambda found: found == (users, absences))


@pytest.mark.integration
class TestTaskInbox:
    async def test_a_role_task_reaches_every_holder_or_their_substitute_and_one_completes_it(
        self, automation: Automation
    ) -> None:
        await automation.user("m-1", "Anna A", roles=("manager",))
        await automation.user("m-2", "Boris B", roles=("manager",))
        await automation.user("sub-1", "Vera V")
        away = AbsenceRecorded(
            absence_id="abs-1", user_id="m-2", starts_at=automation.now - timedelta(days=1),
            ends_at=automation.now + timedelta(days=10), substitute_user_id="sub-1",
        )  # fmt: skip
        await automation.publish(away, subject="abs-1")
        await directory_has(automation, users=3, absences=1)
        await task_robot(automation, {"kind": "role", "id": "manager"})

        item_id = await item_on_stage(automation)

        tasks = await automation.eventually(lambda: inbox(automation, "m-1"), lambda found: len(found) == 1)
        task = tasks[0]
        assert task["title"].startswith("Was a meeting set with Deal")
        assert (task["assignee_role"], task["candidate_user_ids"]) == ("manager", ["m-1", "sub-1"])
        assert [t["id"] for t in await inbox(automation, "sub-1")] == [task["id"]]
        assert await inbox(automation, "m-2") == []

        missing = await automation.http.post(
            f"/v1/tasks/{task['id']}/complete",
            json={"outcome": "meeting"},
            headers=automation.headers("sub-1", ()),
        )
        assert missing.status_code == 422
        assert missing.json()["errors"] == [{"field": "/values/meeting_at", "message": "required"}]
        done = await automation.http.post(
            f"/v1/tasks/{task['id']}/complete",
            json={"outcome": "meeting", "values": {"meeting_at": "2026-03-09T10:00:00Z"}},
            headers=automation.headers("sub-1", ()),
        )
        assert done.status_code == 200, done.text
        assert (done.json()["status"], done.json()["completed_by"]) == ("completed", "sub-1")
        assert await inbox(automation, "m-1") == []
        again = await automation.http.post(
            f"/v1/tasks/{task['id']}/complete", json={"outcome": "reject"}, headers=automation.headers("m-1", ())
        )
        assert again.status_code == 409
        completed = await automation.commands("conveyor.automation.task.completed.v1")
        assert [(c["item_id"], c["outcome"], c["values"]) for c in completed] == [
            (item_id, "meeting", {"meeting_at": "2026-03-09T10:00:00Z"})
        ]

    async def test_an_overdue_task_is_marked_and_can_be_delegated(self, automation: Automation) -> None:
        await automation.user("manager-1", "Olga O")
        await automation.user("manager-3", "Ivan I")
        await directory_has(automation, users=2)
        await task_robot(automation, {"kind": "assignee"}, due_in_seconds=3600)
        await item_on_stage(automation)
        tasks = await automation.eventually(lambda: inbox(automation, "manager-1"), lambda found: len(found) == 1)
        assert tasks[0]["overdue"] is False
        assert (tasks[0]["created_at"], tasks[0]["due_at"]) == ("2026-03-02T09:00:00Z", "2026-03-02T10:00:00Z")

        automation.advance(3601)
        assert (await inbox(automation, "manager-1"))[0]["overdue"] is True
        stranger = await automation.http.post(
            f"/v1/tasks/{tasks[0]['id']}/delegate", json={"to_user_id": "manager-3"},
            headers=automation.headers("manager-3", ()),
        )  # fmt: skip
        handed = await automation.http.post(
            f"/v1/tasks/{tasks[0]['id']}/delegate", json={"to_user_id": "manager-3"},
            headers=automation.headers("manager-1", ()),
        )  # fmt: skip

        assert stranger.status_code == 403
        assert handed.status_code == 200, handed.text
        assert await inbox(automation, "manager-1") == []
        assert [t["id"] for t in await inbox(automation, "manager-3")] == [tasks[0]["id"]]

    async def test_a_substitute_sees_the_tasks_of_someone_away_now(self, automation: Automation) -> None:
        await automation.user("manager-1", "Olga O")
        await automation.user("sub-9", "Vera V")
        await directory_has(automation, users=2)
        await task_robot(automation, {"kind": "assignee"})
        await item_on_stage(automation)
        tasks = await automation.eventually(lambda: inbox(automation, "manager-1"), lambda found: len(found) == 1)
        assert await inbox(automation, "sub-9") == []

        away = AbsenceRecorded(
            absence_id="abs-9", user_id="manager-1", starts_at=automation.now,
            ends_at=automation.now + timedelta(days=3), substitute_user_id="sub-9",
        )  # fmt: skip
        await automation.publish(away, subject="abs-9")
        await directory_has(automation, users=2, absences=1)

        assert [t["id"] for t in await inbox(automation, "sub-9")] == [tasks[0]["id"]]
        automation.advance(3 * 86400)
        assert await inbox(automation, "sub-9") == []

    async def test_the_inbox_comes_in_pages_soonest_due_first_and_undated_last(self, automation: Automation) -> None:
        await automation.user("manager-1", "Olga O")
        await directory_has(automation, users=1)
        for position, (title, due) in enumerate([("Undated", None), ("Later", 7200), ("Sooner", 600)]):
            action = {"type": "create_task", "title": title, "assignee": {"kind": "assignee"}, "due_in_seconds": due}
            await automation.add_robot(pipeline_id=PIPE, stage_id=STAGE, name=title, position=position, action=action)
        await item_on_stage(automation)
        await automation.eventually(lambda: inbox(automation, "manager-1"), lambda found: len(found) == 3)

        titles, cursor, pages = [], None, 0
        while True:
            params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
            response = await automation.http.get(
                "/v1/tasks/inbox", params=params, headers=automation.headers("manager-1", ())
            )
            assert response.status_code == 200, response.text
            titles += [t["title"] for t in response.json()["items"]]
            cursor, pages = response.json()["next_cursor"], pages + 1
            if cursor is None:
                break

        assert (titles, pages) == (["Sooner", "Later", "Undated"], 3)
