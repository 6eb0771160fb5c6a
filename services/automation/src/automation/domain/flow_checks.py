"""Sequence-flow shapes SpiffWorkflow cannot run, found at upload instead of at an instance's start.

SpiffWorkflow 3.2 predicts the path ahead of every task by walking its outputs; a cycle of steps with no
gateway in it (``escalate → wait a day → escalate``) makes that walk recurse without end, and the instance
failed at its start with a bare ``RecursionError`` naming no step. Through a gateway the same loop runs.
"""

from __future__ import annotations

from typing import Any

# Where the prediction stops going round: a loop through one of these runs.
GATEWAYS = frozenset({"ExclusiveGateway", "InclusiveGateway", "ParallelGateway", "EventBasedGateway"})


def loop_without_gateway(spec: Any) -> list[Any] | None:
    """The steps of a cycle (in flow order, back to the first) that has no gateway, or None."""
    steps = [t for t in spec.task_specs.values() if type(t).__name__ not in GATEWAYS]
    inside = {id(t) for t in steps}
    state: dict[int, int] = {}  # 1: on the current path, 2: done, no cycle through it
    path: list[Any] = []

    def visit(step: Any) -> list[Any] | None:
        state[id(step)] = 1
        path.append(step)
        for nxt in step.outputs:
            if id(nxt) not in inside:
                continue
            if state.get(id(nxt)) == 1:
                return [*path[path.index(nxt) :], nxt]
            if id(nxt) not in state and (found := visit(nxt)) is not None:
                return found
        path.pop()
        state[id(step)] = 2
        return None

    for step in steps:
        if id(step) not in state and (found := visit(step)) is not None:
            return found
    return None


def describe(cycle: list[Any]) -> str:
    names = " → ".join(repr(getattr(t, "bpmn_id", None) or t.name) for t in cycle)
    return (
        f"{names}: a loop without a gateway cannot run (SpiffWorkflow never stops predicting it); "
        "loop back through an exclusive gateway"
    )
