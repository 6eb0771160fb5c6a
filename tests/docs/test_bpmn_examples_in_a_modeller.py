"""The example BPMN files load in a standard BPMN modeller: tools/bpmn-check reads them with
bpmn-moddle, as bpmn.io and Camunda Modeler do, refuses any import warning and wants a drawing
(diagram interchange) for every flow node and sequence flow."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

REPO_ROOT = Path(__file__).resolve().parents[2]
CHECK = REPO_ROOT / "tools" / "bpmn-check"
EXAMPLES = sorted((REPO_ROOT / "docs" / "examples").glob("*.bpmn"))
ONBOARDING = REPO_ROOT / "docs" / "examples" / "onboarding.bpmn"


def bpmn_check(*paths: Path) -> subprocess.CompletedProcess[str]:
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: `make setup` installs Node.js and tools/bpmn-check's modules")
    if not (CHECK / "node_modules" / "bpmn-moddle").is_dir():
        pytest.fail("tools/bpmn-check/node_modules is missing: run `make setup` (it runs `npm ci` there)")
    return subprocess.run(
        [node, str(CHECK / "check.mjs"), *map(str, paths)], capture_output=True, text=True, timeout=60, check=False
    )


def test_every_example_loads_and_is_drawn() -> None:
    assert EXAMPLES, "no .bpmn files under docs/examples"
    result = bpmn_check(*EXAMPLES)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [line.split(":")[0] for line in result.stdout.splitlines()] == [f"ok {path}" for path in EXAMPLES]


# Each case: (text, replacement) edits of the onboarding example, and what the check must say.
BROKEN: dict[str, tuple[list[tuple[str, str]], list[str]]] = {
    "a node and its flow not drawn": (
        [('<bpmndi:BPMNShape id="launched_di" bpmnElement="launched">', '<bpmndi:BPMNShape id="launched_di">'),
         ('bpmnElement="f_to_launched"', 'bpmnElement="f_launched"')],
        ["EndEvent 'launched' (\"Launched\") has 0 BPMNShapes", "SequenceFlow 'f_launched' has 2 BPMNEdges",
         "SequenceFlow 'f_to_launched' has 0 BPMNEdges"],
    ),
    "an edge without waypoints": (
        [('<di:waypoint x="2560" y="218"/><di:waypoint x="2610" y="218"/>', "")],
        ["the BPMNEdge of SequenceFlow 'f_to_launched' has fewer than two di:waypoints"],
    ),
    "an unresolved reference": (
        [('targetRef="launched"', 'targetRef="nowhere"')],
        ["unresolved reference <nowhere>"],
    ),
    "an unknown element": (
        [('<bpmn:endEvent id="launched"', '<bpmn:finishLine id="x"/><bpmn:endEvent id="launched"')],
        ["unparsable content <bpmn:finishLine>"],
    ),
    "a duplicate id": (
        [('id="f_to_launched"', 'id="f_launched"')],
        ["duplicate ID <f_launched>"],
    ),
    "a process on no plane": (
        [('<bpmndi:BPMNPlane id="onboarding_plane" bpmnElement="onboarding">', '<bpmndi:BPMNPlane id="plane">')],
        ["process 'onboarding' is on no diagram plane"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", list(BROKEN))
def test_the_check_refuses_what_a_modeller_cannot_show(case: str, tmp_path: Path) -> None:
    edits, complaints = BROKEN[case]
    broken = ONBOARDING.read_text()
    for text, replacement in edits:
        assert text in broken, f"the example changed: {text!r} is not in it any more"
        broken = broken.replace(text, replacement)
    path = tmp_path / "broken.bpmn"
    path.write_text(broken)

    result = bpmn_check(path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert result.stdout.startswith(f"FAIL {path}")
    for complaint in complaints:
        assert complaint in result.stdout
