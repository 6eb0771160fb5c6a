"""Issue #20: real BPMN files this project did not write (tests/data/bpmn/third_party, sources.json) are
each uploaded through the API and either run to their end on an item, or refused with a 422 naming
one of their elements. None answers 500 or waits forever.

Which of the two each file does is recorded (`record_property("outcome", …)`, and the table in
tests/data/bpmn/third_party/SOURCES.md): a file refused today because the engine lacks an element
(message and signal events) may run once the engine has it, and both are right."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from typing import Any as Automation  # the `automation` fixture of conftest.py

import pytest
from automation.domain import processes as engine
from automation.domain.process_clock import service_now

FOLDER = Path(__file__).parents[3] / "tests" / "data" / "bpmn" / "third_party"
SOURCES = json.loads((FOLDER / "sources.json").read_text())
TYPE = "request"
# Enough rounds for the longest file (a user task, a timer, another user task…); a file that needs more
# is a process that does not end.
MAX_ROUNDS = 12
# Past every timer of the corpus (P7D is the longest) in one move of the clock.
TIMER_SPAN = 8 * 86400.0
SAMPLE_VALUES = {"string": "x", "text": "x", "number": 1, "boolean": True}


def element_ids(bpmn: str) -> set[str]:
    return set(re.findall(r'\bid="([^"]+)"', bpmn))


async def upload(automation: Automation, name: str, bpmn: str) -> Any:
    return await automation.http.post(
        "/v1/process-templates",
        json={"name": name, "entity_type_id": TYPE, "bpmn": bpmn},
        headers=automation.headers(),
    )


async def instance(automation: Automation, instance_id: str) -> dict[str, Any]:
    response = await automation.http.get(f"/v1/processes/{instance_id}", headers=automation.headers())
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def open_tasks(automation: Automation, item_id: str) -> list[dict[str, Any]]:
    response = await automation.http.get(
        "/v1/tasks", params={"item_id": item_id, "status": "open"}, headers=automation.headers()
    )
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["items"]
    return found


def values_for(task: dict[str, Any], outcome: dict[str, Any] | None, now: str) -> dict[str, Any]:
    """A value for every field the form or the outcome requires."""
    required = {f["code"] for f in task["form"] if f["required"]} | set(outcome["requires"] if outcome else [])
    kinds = {f["code"]: f["kind"] for f in task["form"]}
    return {code: SAMPLE_VALUES.get(kinds.get(code, "string"), now) for code in required}


async def complete(automation: Automation, task: dict[str, Any]) -> None:
    """Complete a task as an admin, with its first outcome and the values it requires."""
    outcome = task["outcomes"][0] if task["outcomes"] else None
    values = values_for(task, outcome, automation.now.isoformat())
    body = {"outcome": outcome["id"] if outcome else None, "values": values}
    response = await automation.http.post(f"/v1/tasks/{task['id']}/complete", json=body, headers=automation.headers())
    assert response.status_code == 200, response.text


async def _deliver_declared_events(automation: Automation, bpmn: str, item_id: str) -> bool:
    """Send each message the file declares to the item's processes and broadcast each signal; whether any
    process took one (a process waiting for the world, played by the test)."""
    taken = 0
    for kind, name in re.findall(r'<(?:\w+:)?(message|signal)\b[^>]*\bname="([^"]+)"', bpmn):
        if kind == "message":
            body: dict[str, Any] = {"name": name, "item_id": item_id}
            response = await automation.http.post("/v1/processes/messages", json=body, headers=automation.headers())
        else:
            response = await automation.http.post(
                "/v1/processes/signals", json={"name": name}, headers=automation.headers()
            )
        assert response.status_code == 200, response.text
        taken += response.json()["delivered_to"]
    return taken > 0


async def run_to_end(automation: Automation, template_id: str, item_id: str, bpmn: str) -> dict[str, Any]:
    """Start the template on the item and drive it: complete open tasks, else deliver the messages and signals
    it declares, else move the clock past the timers."""
    response = await automation.http.post(
        "/v1/processes", json={"template_id": template_id, "item_id": item_id}, headers=automation.headers()
    )
    assert response.status_code == 201, response.text
    process: dict[str, Any] = response.json()
    instance_id = process["id"]
    for _ in range(MAX_ROUNDS):
        assert process["status"] != "failed", process["failure"]
        if process["status"] == "completed":
            return process
        tasks = await open_tasks(automation, item_id)
        for task in tasks:
            await complete(automation, task)
        if not tasks and await _deliver_declared_events(automation, bpmn, item_id):
            pass  # a message or signal the file declares moved it (a world the file expects)
        elif not tasks:  # waiting for a timer: its durable timer wakes the instance once the clock passes it
            automation.advance(TIMER_SPAN)
            await automation.eventually(
                lambda: _progress(automation, instance_id, item_id), lambda moved: moved is not None
            )
        process = await instance(automation, instance_id)
    raise AssertionError(f"the process did not end within {MAX_ROUNDS} rounds: {process}")


async def _progress(automation: Automation, instance_id: str, item_id: str) -> str | None:
    """What the instance did after a timer: ended, failed, or opened a task (None: still waiting)."""
    status = (await instance(automation, instance_id))["status"]
    if status != "running":
        return str(status)
    return "tasks" if await open_tasks(automation, item_id) else None


@pytest.mark.integration
@pytest.mark.parametrize("source", SOURCES, ids=[s["file"] for s in SOURCES])
async def test_a_third_party_file_runs_to_its_end_or_is_refused_naming_an_element(
    automation: Automation, source: dict[str, str], record_property: Any
) -> None:
    bpmn = (FOLDER / source["file"]).read_text(encoding="utf-8")
    await automation.entity_type(TYPE)

    response = await upload(automation, source["file"], bpmn)

    if response.status_code == 422:
        assert response.headers["content-type"].startswith("application/problem+json")
        detail = response.json()["detail"]
        named = {ident for ident in element_ids(bpmn) if f"'{ident}'" in detail}
        assert named, f"the refusal names no element of the file: {detail}"
        record_property("outcome", f"refused: {detail}")
        return
    assert response.status_code == 201, response.text
    item_id = await automation.item(TYPE)
    await automation.eventually(lambda: automation.copy_of(item_id), lambda copy: copy is not None)

    ended = await run_to_end(automation, response.json()["id"], item_id, bpmn)

    assert ended["status"] == "completed"
    assert await open_tasks(automation, item_id) == []
    record_property("outcome", "runs to end")


PLAIN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:operaton="http://operaton.org/schema/1.0/bpmn"
    id="d" targetNamespace="https://example.test">
  <process id="p" isExecutable="{executable}">
    <startEvent id="start"/>
    {middle}
    <endEvent id="end"/>
    <sequenceFlow id="f1" sourceRef="start" targetRef="middle"/>
    <sequenceFlow id="f2" sourceRef="middle" targetRef="end"/>
  </process>
</definitions>"""


def plain(middle: str, executable: str = "true") -> str:
    return PLAIN.replace("{middle}", middle).replace("{executable}", executable)


def refusal(bpmn: str) -> str:
    with pytest.raises(engine.InvalidTemplate) as refused:
        engine.check_upload(bpmn)
        engine.parse_template(bpmn)
    return str(refused.value)


@pytest.mark.unit
class TestWhatOtherModellersWrite:
    def test_a_bare_iso_8601_timer_is_that_text_not_a_variable(self) -> None:
        bpmn = plain(
            '<intermediateCatchEvent id="middle"><timerEventDefinition><timeDuration>PT5M</timeDuration>'
            "</timerEventDefinition></intermediateCatchEvent>"
        )
        engine.check_upload(bpmn)
        started = service_now()  # the clock timers read (the service's, or a test's moved one)
        [(name, due)] = engine.waiting_timers(engine.start(engine.parse_template(bpmn), {}))
        assert name == "middle" and timedelta(minutes=5) <= due - started < timedelta(minutes=6)

    def test_operaton_extensions_are_mapped_or_refused_like_camundas(self) -> None:
        task = '<userTask id="middle" name="Approve" operaton:candidateGroups="approvers" {more}/>'
        [step] = engine.waiting_user_steps(engine.start(engine.parse_template(plain(task.format(more=""))), {}))
        assert step.assignee == {"kind": "role", "id": "approvers"}

        message = refusal(plain(task.format(more='operaton:formKey="embedded:app:x.html"')))
        assert message == "userTask 'middle' (Approve): operaton:formKey is not supported"

    @pytest.mark.parametrize(
        ("middle", "executable", "named"),
        [
            ('<task id="middle"/>', "false", "process 'p': isExecutable is not true"),
            ('<receiveTask id="middle"/>', "true", "receiveTask 'middle': a receive task waits for a message"),
            (
                '<intermediateCatchEvent id="middle"><messageEventDefinition/></intermediateCatchEvent>',
                "true",
                "'middle': a message event needs a bpmn:message with a name",
            ),
            (
                '<callActivity id="middle" name="Check" calledElement="nowhere"/>',
                "true",
                "callActivity 'middle' (Check): calls 'nowhere', which no template defines",
            ),
        ],
    )
    def test_what_no_process_could_finish_is_refused_naming_the_element(
        self, middle: str, executable: str, named: str
    ) -> None:
        assert refusal(plain(middle, executable)).startswith(named)


@pytest.mark.unit
def test_every_file_of_the_folder_has_its_source_and_licence_noted() -> None:
    noted = {source["file"] for source in SOURCES}
    assert noted == {path.name for path in FOLDER.glob("*.bpmn")}
    assert len(noted) >= 15
    assert all(source["commit"] and source["licence"] in ("Apache-2.0", "MIT") for source in SOURCES)
