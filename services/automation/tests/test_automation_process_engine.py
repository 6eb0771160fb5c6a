"""The process engine without I/O: parallel branches, sub-processes, error ends, approval by several people."""

from __future__ import annotations

import pytest
from automation.domain import processes as engine
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow

pytestmark = pytest.mark.unit

HEAD = (
    '<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
    ' id="d" targetNamespace="https://conveyor.dev/bpmn"><bpmn:process id="p" isExecutable="true">'
)
TAIL = "</bpmn:process></bpmn:definitions>"


def flow(fid: str, src: str, dst: str, condition: str | None = None) -> str:
    body = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition else ""
    return f'<bpmn:sequenceFlow id="{fid}" sourceRef="{src}" targetRef="{dst}">{body}</bpmn:sequenceFlow>'


def titles(workflow: BpmnWorkflow) -> list[str]:
    return sorted(step.title for step in engine.waiting_user_steps(workflow))


def finish(workflow: BpmnWorkflow, title: str, outcome: str = "done") -> None:
    step = next(s for s in engine.waiting_user_steps(workflow) if s.title == title)
    engine.complete_user_step(workflow, step.spiff_task_id, outcome, {})


class TestProcessEngine:
    def test_parallel_branches_wait_for_each_other_and_approval_needs_both_approvers(self) -> None:
        bpmn = (
            HEAD + '<bpmn:startEvent id="s"/><bpmn:parallelGateway id="split"/><bpmn:parallelGateway id="join"/>'
            '<bpmn:userTask id="a" name="Head approves"/><bpmn:userTask id="b" name="Accounting approves"/>'
            '<bpmn:scriptTask id="tally" name="Tally"><bpmn:script>approved = True</bpmn:script></bpmn:scriptTask>'
            '<bpmn:endEvent id="e"/>'
            + flow("f1", "s", "split") + flow("f2", "split", "a") + flow("f3", "split", "b") + flow("f4", "a", "join")
            + flow("f5", "b", "join") + flow("f6", "join", "tally") + flow("f7", "tally", "e") + TAIL
        )  # fmt: skip
        workflow = engine.start(engine.parse_template(bpmn), {})
        assert titles(workflow) == ["Accounting approves", "Head approves"]

        finish(workflow, "Head approves", "approve")
        workflow = engine.loads(engine.dumps(workflow))
        assert titles(workflow) == ["Accounting approves"] and not workflow.is_completed()
        finish(workflow, "Accounting approves", "approve")

        assert workflow.is_completed() and workflow.data.get("approved") is True

    def test_a_sub_process_runs_inside_and_a_loop_repeats_until_its_condition(self) -> None:
        bpmn = (
            HEAD + '<bpmn:startEvent id="s"/>'
            '<bpmn:subProcess id="sub" name="Collect documents"><bpmn:startEvent id="ss"/>'
            '<bpmn:userTask id="upload" name="Upload a document"/>'
            '<bpmn:scriptTask id="count" name="Count">'
            '<bpmn:script>n = (n if n else 0) + 1</bpmn:script></bpmn:scriptTask>'
            '<bpmn:exclusiveGateway id="more" default="enough"/><bpmn:endEvent id="se"/>'
            + flow("g1", "ss", "upload") + flow("g2", "upload", "count") + flow("g3", "count", "more")
            + flow("again", "more", "upload", "n &lt; 3") + flow("enough", "more", "se")
            + '</bpmn:subProcess><bpmn:endEvent id="e"/>' + flow("f1", "s", "sub") + flow("f2", "sub", "e") + TAIL
        )  # fmt: skip
        workflow = engine.start(engine.parse_template(bpmn), {})
        for _ in range(3):
            assert titles(workflow) == ["Upload a document"]
            finish(workflow, "Upload a document")

        assert workflow.is_completed()

    def test_an_error_end_is_caught_by_a_boundary_error_event(self) -> None:
        bpmn = (
            '<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
            ' id="d" targetNamespace="https://conveyor.dev/bpmn"><bpmn:error id="refused" errorCode="refused"/>'
            '<bpmn:process id="p" isExecutable="true"><bpmn:startEvent id="s"/>'
            '<bpmn:subProcess id="sub" name="Check"><bpmn:startEvent id="ss"/>'
            '<bpmn:userTask id="check" name="Check the documents"/>'
            '<bpmn:exclusiveGateway id="ok" default="fine"/><bpmn:endEvent id="se"/>'
            '<bpmn:endEvent id="bad"><bpmn:errorEventDefinition errorRef="refused"/></bpmn:endEvent>'
            + flow("g1", "ss", "check") + flow("g2", "check", "ok") + flow("no", "ok", "bad", 'outcome == "reject"')
            + flow("fine", "ok", "se") + '</bpmn:subProcess>'
            '<bpmn:boundaryEvent id="caught" attachedToRef="sub"><bpmn:errorEventDefinition errorRef="refused"/>'
            '</bpmn:boundaryEvent><bpmn:userTask id="fix" name="Fix the documents"/><bpmn:endEvent id="e"/>'
            '<bpmn:endEvent id="e2"/>' + flow("f1", "s", "sub") + flow("f2", "sub", "e") + flow("f3", "caught", "fix")
            + flow("f4", "fix", "e2") + TAIL
        )  # fmt: skip
        workflow = engine.start(engine.parse_template(bpmn), {})
        finish(workflow, "Check the documents", "reject")

        assert titles(workflow) == ["Fix the documents"]


DEFS = (
    '<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"'
    ' id="d" targetNamespace="https://conveyor.dev/bpmn">'
)
CHECK = (
    '<bpmn:process id="check" isExecutable="true"><bpmn:startEvent id="cs"/>'
    '<bpmn:userTask id="verify" name="Verify the documents"/>'
    '<bpmn:scriptTask id="mark" name="Mark"><bpmn:script>verified = outcome == "ok"</bpmn:script></bpmn:scriptTask>'
    '<bpmn:endEvent id="ce"/>' + flow("c1", "cs", "verify") + flow("c2", "verify", "mark") + flow("c3", "mark", "ce")
    + "</bpmn:process>"
)  # fmt: skip
MAIN = (
    '<bpmn:process id="main" isExecutable="true"><bpmn:startEvent id="s"/>'
    '<bpmn:callActivity id="call" name="Check the documents" calledElement="check"/>'
    '<bpmn:exclusiveGateway id="gw" default="no"/><bpmn:userTask id="sign" name="Sign"/>'
    '<bpmn:endEvent id="signed"/><bpmn:endEvent id="refused"/>'
    + flow("f1", "s", "call") + flow("f2", "call", "gw") + flow("yes", "gw", "sign", "verified")
    + flow("no", "gw", "refused") + flow("f3", "sign", "signed") + "</bpmn:process>"
)  # fmt: skip


class TestCallActivity:
    @pytest.mark.parametrize(("outcome", "then"), [("ok", ["Sign"]), ("missing", [])])
    def test_a_called_process_runs_with_the_callers_data_and_hands_its_variables_back(
        self, outcome: str, then: list[str]
    ) -> None:
        template = engine.parse_template(DEFS + MAIN + CHECK + "</bpmn:definitions>", "main")
        workflow = engine.start(template, {"item": {"title": "Teplo"}})
        assert titles(workflow) == ["Verify the documents"]

        workflow = engine.loads(engine.dumps(workflow))  # saved and loaded while inside the called process
        finish(workflow, "Verify the documents", outcome)

        assert titles(workflow) == then and workflow.is_completed() == (then == [])
        assert {bpmn_id for _, bpmn_id, _ in engine.reached_steps(workflow)} >= {"call", "verify", "mark", "gw"}

    def test_another_templates_process_is_called_when_given_and_refused_when_missing(self) -> None:
        main = DEFS + MAIN + "</bpmn:definitions>"
        assert engine.called_processes(main) == {"check"}
        with pytest.raises(engine.InvalidTemplate, match="'check' was not found"):
            engine.parse_template(main)

        template = engine.parse_template(main, called={"check": DEFS + CHECK + "</bpmn:definitions>"})
        assert template.process_id == "main"
        workflow = engine.start(template, {})
        finish(workflow, "Verify the documents", "ok")
        finish(workflow, "Sign")
        assert workflow.is_completed()

    def test_a_called_templates_unsafe_script_is_refused(self) -> None:
        unsafe = DEFS + CHECK.replace('outcome == "ok"', "outcome.__class__") + "</bpmn:definitions>"
        with pytest.raises(engine.InvalidTemplate, match="__class__"):
            engine.parse_template(DEFS + MAIN + "</bpmn:definitions>", called={"check": unsafe})


class TestCompactState:
    BPMN = (
        HEAD + '<bpmn:startEvent id="s"/><bpmn:userTask id="a" name="First"/><bpmn:userTask id="b" name="Second"/>'
        '<bpmn:endEvent id="e"/>' + flow("f1", "s", "a") + flow("f2", "a", "b") + flow("f3", "b", "e") + TAIL
    )  # fmt: skip

    def test_the_definition_is_written_once_by_hash_and_the_tasks_apart(self) -> None:
        import json

        workflow = engine.start(engine.parse_template(self.BPMN), {"item": {"title": "Teplo"}})
        digest, definition, tasks = engine.dumps(workflow).split("\n", 2)
        assert len(digest) == 32 and '"task_specs"' in definition
        assert "task_specs" not in tasks and json.loads(tasks)["definition"] == digest

    def test_a_state_loads_after_a_restart_and_from_the_old_self_contained_form(self) -> None:
        from automation.domain import process_state
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
        from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

        workflow = engine.start(engine.parse_template(self.BPMN), {"item": {"title": "Teplo"}})
        finish(workflow, "First")
        state = engine.dumps(workflow)
        old = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG)).serialize_json(workflow)

        process_state._definitions.clear()  # a new process: nothing parsed yet
        process_state._hash_of.clear()
        for text in (state, old):
            loaded = engine.loads(text)
            assert titles(loaded) == ["Second"] and loaded.data == workflow.data
            finish(loaded, "Second")
            assert loaded.is_completed()
            assert engine.dumps(loaded).split("\n", 1)[0] == state.split("\n", 1)[0]
