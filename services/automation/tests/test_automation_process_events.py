"""Processes react to the item and the world: BPMN messages (Conveyor's item and task events, and messages
sent through the API), signals within a tenant, conditions over the item; and uploads that could never
receive theirs are refused."""

from __future__ import annotations

from typing import Any
from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest

pytestmark = pytest.mark.integration

PIPE, NEW, CALL, WON = "pipe-leads", "st-new", "st-call", "st-won"
HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d"
    targetNamespace="https://conveyor.dev/bpmn">"""
CANCELLED = "conveyor.automation.task.cancelled.v1"


def bpmn(body: str, *, declarations: str = "") -> str:
    return f'{HEAD}{declarations}<bpmn:process id="p" isExecutable="true">{body}</bpmn:process></bpmn:definitions>'


def flows(*pairs: str) -> str:
    """``"a>b"`` pairs as sequence flows (``"a>b?condition"`` for a conditional one)."""
    out = []
    for index, pair in enumerate(pairs):
        edge, _, condition = pair.partition("?")
        src, dst = edge.split(">")
        body = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition else ""
        out.append(f'<bpmn:sequenceFlow id="f{index}" sourceRef="{src}" targetRef="{dst}">{body}</bpmn:sequenceFlow>')
    return "".join(out)


def task(ident: str, name: str) -> str:
    return f'<bpmn:userTask id="{ident}" name="{name}"/>'


def message(name: str) -> str:
    return f'<bpmn:message id="m-{name.replace(".", "-")}" name="{name}"/>'


def catches_message(name: str) -> str:
    return f'<bpmn:messageEventDefinition messageRef="m-{name.replace(".", "-")}"/>'


def condition(expression: str) -> str:
    return (
        f"<bpmn:conditionalEventDefinition><bpmn:condition>{expression}</bpmn:condition>"
        "</bpmn:conditionalEventDefinition>"
    )


# Waits for the documents (a message sent through the API), then signs or asks again by its variable.
DOCUMENTS = bpmn(
    '<bpmn:startEvent id="s"/><bpmn:intermediateCatchEvent id="docs" name="Documents received">'
    + catches_message("documents_received") + '</bpmn:intermediateCatchEvent>'
    '<bpmn:exclusiveGateway id="ok" default="no"/>' + task("sign", "Sign the contract") + task("again", "Ask again")
    + flows("s>docs", "docs>ok", "ok>sign?complete == True", "ok>again")
    .replace('id="f3"', 'id="no"'),
    declarations=message("documents_received"),
)  # fmt: skip

# A call that a move ends (interrupting), and that a change of assignee briefs (non-interrupting).
CALL_UNTIL_MOVED = bpmn(
    '<bpmn:startEvent id="s"/>' + task("call", "Call the lead")
    + '<bpmn:boundaryEvent id="moved" name="Moved" attachedToRef="call" cancelActivity="true">'
    + catches_message("item.moved") + "</bpmn:boundaryEvent>"
    + '<bpmn:boundaryEvent id="reassigned" attachedToRef="call" cancelActivity="false">'
    + catches_message("item.assigned") + "</bpmn:boundaryEvent>"
    + '<bpmn:exclusiveGateway id="where" default="lost"/>' + task("welcome", "Welcome the client")
    + task("brief", "Brief the new assignee")
    + '<bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/><bpmn:endEvent id="e3"/>'
    + flows("s>call", "call>e1", "moved>where", f'where>welcome?message.stage_id == "{WON}"', "where>e2",
            "reassigned>brief", "brief>e3").replace('id="f4"', 'id="lost"'),
    declarations=message("item.moved") + message("item.assigned"),
)  # fmt: skip

# Waits for a reply, or an hour, whichever comes first.
REPLY_OR_HOUR = bpmn(
    '<bpmn:startEvent id="s"/><bpmn:eventBasedGateway id="race"/>'
    '<bpmn:intermediateCatchEvent id="reply">' + catches_message("reply") + "</bpmn:intermediateCatchEvent>"
    '<bpmn:intermediateCatchEvent id="hour"><bpmn:timerEventDefinition>'
    '<bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
    + task("answer", "Answer the reply") + task("chase", "Chase the client")
    + flows("s>race", "race>reply", "race>hour", "reply>answer", "hour>chase"),
    declarations=message("reply"),
)  # fmt: skip

SIGNAL = '<bpmn:signal id="prices" name="price_list_changed"/>'
# Waits for new prices.
OFFER = bpmn(
    '<bpmn:startEvent id="s"/><bpmn:intermediateCatchEvent id="prices-changed">'
    '<bpmn:signalEventDefinition signalRef="prices"/></bpmn:intermediateCatchEvent>'
    + task("update", "Update the offer") + flows("s>prices-changed", "prices-changed>update"),
    declarations=SIGNAL,
)  # fmt: skip
# Publishes new prices once a person says so.
PRICE_LIST = bpmn(
    '<bpmn:startEvent id="s"/>' + task("publish", "Publish the price list")
    + '<bpmn:intermediateThrowEvent id="announce"><bpmn:signalEventDefinition signalRef="prices"/>'
    '</bpmn:intermediateThrowEvent><bpmn:endEvent id="e"/>' + flows("s>publish", "publish>announce", "announce>e"),
    declarations=SIGNAL,
)  # fmt: skip

# A call until the lead is interested (a boundary on a condition), and a wait until the budget is large.
CALL_UNTIL_INTERESTED = bpmn(
    '<bpmn:startEvent id="s"/><bpmn:parallelGateway id="both"/>' + task("call", "Call the lead")
    + '<bpmn:boundaryEvent id="interested" attachedToRef="call" cancelActivity="true">'
    + condition("item.interested == True") + "</bpmn:boundaryEvent>"
    + '<bpmn:intermediateCatchEvent id="big">' + condition("item.budget &gt; 1000") + "</bpmn:intermediateCatchEvent>"
    + task("approve", "Approve the big deal") + '<bpmn:endEvent id="e1"/><bpmn:endEvent id="e2"/>'
    + flows("s>both", "both>call", "both>big", "call>e1", "interested>e2", "big>approve"),
)  # fmt: skip


async def upload(automation: Automation, source: str, name: str = "Events") -> dict[str, Any]:
    response = await automation.http.post(
        "/v1/process-templates",
        json={"name": name, "entity_type_id": "lead", "bpmn": source, "start": {"mode": "on_create"}},
        headers=automation.headers(),
    )
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def titles(automation: Automation, item_id: str, user: str = "manager-1") -> list[str]:
    response = await automation.http.get("/v1/tasks/inbox", headers=automation.headers(user, ()))
    assert response.status_code == 200, response.text
    return sorted(t["title"] for t in response.json()["items"] if t["item_id"] == item_id)


async def statuses(automation: Automation, item_id: str) -> list[str]:
    response = await automation.http.get("/v1/processes", params={"item_id": item_id}, headers=automation.headers())
    return [p["status"] for p in response.json()["items"]] if response.status_code == 200 else []


async def started(automation: Automation, **fields: Any) -> str:
    """A lead whose on-create process has run up to its first wait."""
    item_id: str = await automation.item("lead", **fields)
    await automation.eventually(lambda: statuses(automation, item_id), lambda found: found == ["running"])
    return item_id


async def send(automation: Automation, name: str, item_id: str, user: str = "admin-1", **variables: Any) -> Any:
    roles = ("admin",) if user == "admin-1" else ()
    return await automation.http.post(
        "/v1/processes/messages",
        json={"name": name, "item_id": item_id, "variables": variables},
        headers=automation.headers(user, roles),
    )


class TestMessages:
    async def test_a_message_sent_through_the_api_reaches_the_items_waiting_process_with_its_variables(
        self, automation: Automation
    ) -> None:
        await automation.user("manager-1", "Olga O")
        await upload(automation, DOCUMENTS)
        waiting, other = await started(automation), await started(automation)

        unknown = await send(automation, "documents_received", "item-nobody-knows")
        unseen = await send(automation, "documents_received", waiting, user="outsider-1")  # no grant on leads
        sent = await send(automation, "documents_received", waiting, complete=True)
        again = await send(automation, "documents_received", waiting)

        assert unknown.status_code == 404 and unknown.headers["content-type"] == "application/problem+json"
        assert unseen.status_code == 404
        assert sent.status_code == 200 and sent.json() == {"name": "documents_received", "delivered_to": 1}
        assert again.json()["delivered_to"] == 0  # no longer waiting: nothing is kept for later
        assert await titles(automation, waiting) == ["Sign the contract"]
        assert await titles(automation, other) == [] and await statuses(automation, other) == ["running"]

    async def test_a_message_named_like_conveyors_own_is_not_sent_through_the_api(self, automation: Automation) -> None:
        await upload(automation, DOCUMENTS)
        item_id = await started(automation)

        response = await send(automation, "item.moved", item_id)

        assert response.status_code == 422 and "Conveyor's own" in response.text

    async def test_a_move_ends_the_call_by_an_interrupting_boundary_and_reassigning_briefs_without_ending_it(
        self, automation: Automation
    ) -> None:
        await automation.user("manager-1", "Olga O")
        await automation.user("manager-2", "Ivan I")
        await upload(automation, CALL_UNTIL_MOVED)
        item_id = await started(automation)
        await automation.place(item_id, "lead", PIPE, NEW)
        await automation.eventually(lambda: titles(automation, item_id), lambda found: found == ["Call the lead"])

        await automation.update(item_id, "lead", {"assignee_id": {"old": "manager-1", "new": "manager-2"}})
        briefed = await automation.eventually(
            lambda: titles(automation, item_id, "manager-2"), lambda found: found == ["Brief the new assignee"]
        )
        await automation.move(item_id, "lead", PIPE, NEW, WON)
        cancelled = await automation.eventually(
            lambda: automation.commands(CANCELLED), lambda found: [e["item_id"] for e in found] == [item_id]
        )

        assert briefed == ["Brief the new assignee"] and cancelled[0]["cause"] == "process_moved_on"
        welcomed = await automation.eventually(
            lambda: titles(automation, item_id, "manager-2"), lambda found: "Welcome the client" in found
        )
        assert welcomed == ["Brief the new assignee", "Welcome the client"]
        assert await titles(automation, item_id, "manager-1") == []

    async def test_the_event_gateway_takes_the_message_or_the_timer_whichever_comes_first(
        self, automation: Automation
    ) -> None:
        await automation.user("manager-1", "Olga O")
        await upload(automation, REPLY_OR_HOUR)
        replied, silent = await started(automation), await started(automation)

        assert (await send(automation, "reply", replied)).json()["delivered_to"] == 1
        automation.advance(3601)
        await automation.eventually(lambda: titles(automation, silent), lambda found: found == ["Chase the client"])
        late = await send(automation, "reply", silent)

        assert late.json()["delivered_to"] == 0
        assert await titles(automation, replied) == ["Answer the reply"]
        assert await titles(automation, silent) == ["Chase the client"]


# One process's review, and another that waits to hear how any task on the item ended.
REVIEW = bpmn(
    '<bpmn:startEvent id="s"/><bpmn:userTask id="review" name="Review the documents"><bpmn:extensionElements>'
    '<spiffworkflow:properties><spiffworkflow:property name="outcomes" value="approve:Approve,reject:Reject"/>'
    "</spiffworkflow:properties></bpmn:extensionElements></bpmn:userTask>" + flows("s>review")
)  # fmt: skip
HEAR_HOW_IT_ENDED = bpmn(
    '<bpmn:startEvent id="s"/><bpmn:eventBasedGateway id="how"/>'
    '<bpmn:intermediateCatchEvent id="completed">' + catches_message("task.completed")
    + '</bpmn:intermediateCatchEvent><bpmn:intermediateCatchEvent id="cancelled">'
    + catches_message("task.cancelled") + "</bpmn:intermediateCatchEvent>"
    '<bpmn:exclusiveGateway id="verdict" default="other"/>'
    + task("contract", "Send the contract") + task("why", "Ask why it was dropped") + '<bpmn:endEvent id="e"/>'
    + flows("s>how", "how>completed", "how>cancelled", "completed>verdict",
            'verdict>contract?message.outcome == "approve"', "verdict>e", "cancelled>why")
    .replace('id="f5"', 'id="other"'),
    declarations=message("task.completed") + message("task.cancelled"),
)  # fmt: skip


class TestTaskMessages:
    async def test_a_task_completed_or_cancelled_on_the_item_reaches_its_other_processes(
        self, automation: Automation
    ) -> None:
        await automation.user("manager-1", "Olga O")
        await upload(automation, REVIEW, "Review")
        await upload(automation, HEAR_HOW_IT_ENDED, "Hear how it ended")
        approved, dropped = await automation.item("lead"), await automation.item("lead")
        opened = await automation.eventually(lambda: _inbox(automation), lambda found: len(found) == 2)
        reviews = {t["item_id"]: t["id"] for t in opened}

        done = await automation.http.post(
            f"/v1/tasks/{reviews[approved]}/complete", json={"outcome": "approve"},
            headers=automation.headers("manager-1", ()),
        )  # fmt: skip
        cancelled = await automation.http.post(
            f"/v1/tasks/{reviews[dropped]}/cancel", json={"reason": "duplicate"}, headers=automation.headers()
        )

        assert done.status_code == cancelled.status_code == 200, (done.text, cancelled.text)
        assert await titles(automation, approved) == ["Send the contract"]
        assert await titles(automation, dropped) == ["Ask why it was dropped"]


class TestSignals:
    async def test_a_process_signal_reaches_every_waiting_process_of_its_tenant_and_no_other_tenants(
        self, automation: Automation
    ) -> None:
        home = automation.tenant
        automation.tenant = f"{home}-other"
        await automation.user("manager-1", "Olga O")
        await upload(automation, OFFER)
        elsewhere = await started(automation)
        automation.tenant = home
        await automation.user("manager-1", "Olga O")
        await upload(automation, OFFER)
        first, second = await started(automation), await started(automation)
        await upload(automation, PRICE_LIST, "Price list")
        announcer = await automation.item("lead")
        inbox = await automation.eventually(lambda: _inbox(automation), lambda found: _titled(found, "Publish"))
        publish = _titled(inbox, "Publish")
        assert publish is not None

        done = await automation.http.post(
            f"/v1/tasks/{publish['id']}/complete", json={"outcome": "done"}, headers=automation.headers("manager-1", ())
        )

        assert done.status_code == 200, done.text
        assert await titles(automation, first) == await titles(automation, second) == ["Update the offer"]
        # The announcing item's own offer process hears it too (another instance); the announcer has ended.
        assert await titles(automation, announcer) == ["Update the offer"]
        assert sorted(await statuses(automation, announcer)) == ["completed", "running"]
        automation.tenant = f"{home}-other"
        assert await titles(automation, elsewhere) == [] and await statuses(automation, elsewhere) == ["running"]
        broadcast = await automation.http.post(
            "/v1/processes/signals", json={"name": "price_list_changed"}, headers=automation.headers()
        )
        assert broadcast.json() == {"name": "price_list_changed", "delivered_to": 1}
        assert await titles(automation, elsewhere) == ["Update the offer"]

    async def test_only_admins_send_signals(self, automation: Automation) -> None:
        response = await automation.http.post(
            "/v1/processes/signals", json={"name": "price_list_changed"}, headers=automation.headers("manager-1", ())
        )

        assert response.status_code == 403


class TestConditions:
    async def test_a_field_change_fires_a_conditional_boundary_and_a_wait_until_condition(
        self, automation: Automation
    ) -> None:
        await automation.user("manager-1", "Olga O")
        await upload(automation, CALL_UNTIL_INTERESTED)
        item_id = await started(automation, interested=False, budget=10)
        assert await titles(automation, item_id) == ["Call the lead"]

        await automation.update(item_id, "lead", {"fields.budget": {"old": 10, "new": 5000}})
        await automation.eventually(
            lambda: titles(automation, item_id), lambda found: found == ["Approve the big deal", "Call the lead"]
        )
        await automation.update(item_id, "lead", {"fields.interested": {"old": False, "new": True}})
        cancelled = await automation.eventually(
            lambda: automation.commands(CANCELLED), lambda found: [e["item_id"] for e in found] == [item_id]
        )

        assert cancelled[0]["cause"] == "process_moved_on"
        assert await titles(automation, item_id) == ["Approve the big deal"]


class TestUploadsThatCouldNeverRun:
    @pytest.mark.parametrize(
        ("source", "named"),
        [
            (
                CALL_UNTIL_MOVED.replace('name="item.moved"', 'name="item.mooved"'),
                "'moved' (Moved): no built-in message",
            ),
            (CALL_UNTIL_INTERESTED.replace("item.interested == True", ""), "'interested': a conditional event needs"),
            (CALL_UNTIL_INTERESTED.replace("item.interested == True", "__import__('os')"), "'interested': Call is not"),
            (
                bpmn(
                    '<bpmn:startEvent id="s"/>' + task("a", "Ask") + task("b", "Ask again") + flows("s>a", "a>b", "b>a")
                ),
                "'a' → 'b' → 'a': a loop without a gateway",
            ),
            (
                REPLY_OR_HOUR.replace(catches_message("reply"), condition("item.x")),
                "'reply': a conditional event after",
            ),
        ],
    )
    async def test_an_event_conveyor_cannot_deliver_is_refused_naming_it(
        self, automation: Automation, source: str, named: str
    ) -> None:
        response = await automation.http.post(
            "/v1/process-templates",
            json={"name": "Bad", "entity_type_id": "lead", "bpmn": source, "start": {"mode": "on_create"}},
            headers=automation.headers(),
        )

        assert response.status_code == 422 and named in response.json()["detail"], response.text


async def _inbox(automation: Automation) -> list[dict[str, Any]]:
    response = await automation.http.get("/v1/tasks/inbox", headers=automation.headers("manager-1", ()))
    found: list[dict[str, Any]] = response.json()["items"]
    return found


def _titled(tasks: list[dict[str, Any]], prefix: str) -> dict[str, Any] | None:
    return next((t for t in tasks if t["title"].startswith(prefix)), None)
