"""BPMN message, signal and conditional events on SpiffWorkflow: what an instance waits for, delivering
one to it, and what an upload must refuse because Conveyor could never deliver it.

A message is correlated to the instance's item (whoever sends it names the item); a signal goes to every
instance of the tenant that waits for it; a condition over ``item`` is evaluated again whenever the item
changes. Conveyor's own item and task events are messages of reserved names (``BUILT_IN_MESSAGES``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.conditional import ConditionalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from automation.domain import expressions

# What Conveyor sends by itself, to the instances on the item, when automation hears of it.
BUILT_IN_MESSAGES = frozenset({"item.moved", "item.updated", "item.assigned", "task.completed", "task.cancelled"})
# A message named like these is Conveyor's: an unknown one would never come.
RESERVED_PREFIXES = ("item.", "task.")
CONDITION = "condition"  # the key of an instance waiting for a condition (see ``waiting_for``)
SENT = "_signals_sent"  # the instance's data: throw events whose signal already went to the tenant


def waiting_for(workflow: BpmnWorkflow) -> list[str]:
    """What the instance waits for, as keys the row keeps so that a delivery finds it without loading
    every instance: ``message:<name>``, ``signal:<name>``, ``condition``."""
    keys: set[str] = set()
    for task in workflow.event_manager.tasks.values():
        for definition in _definitions(task.task_spec.event_definition):
            if isinstance(definition, MessageEventDefinition):
                keys.add(f"message:{definition.name}")
            elif isinstance(definition, SignalEventDefinition):
                keys.add(f"signal:{definition.name}")
            elif isinstance(definition, ConditionalEventDefinition):
                keys.add(CONDITION)
    return sorted(keys)


def deliver(workflow: BpmnWorkflow, kind: str, name: str, variables: dict[str, Any]) -> int:
    """Deliver a message or signal ``name``; ``variables`` land in the data of the event that catches it
    (and so of the steps after it). Answers how many of the instance's events took it (0: not waiting)."""
    wanted = MessageEventDefinition if kind == "message" else SignalEventDefinition
    definition = next(
        (
            d
            for task in workflow.event_manager.tasks.values()
            for d in _definitions(task.task_spec.event_definition)
            if isinstance(d, wanted) and d.name == name
        ),
        None,
    )
    if definition is None:
        return 0
    event = BpmnEvent(definition, payload=dict(variables))
    catching = [t for t in workflow.event_manager.tasks.values() if t.task_spec.catches(t, event)]
    for task in catching:  # before the catch: a boundary's or a gateway's next steps copy their data on
        task.data.update(variables)
    taken: int = workflow.event_manager.catch(event, internal=False)
    workflow.do_engine_steps()
    return taken


def refresh_conditions(workflow: BpmnWorkflow, item: dict[str, Any]) -> int:
    """The item changed: conditional events see it as it is now and fire if their condition holds.
    Answers how many fired."""
    fired = 0
    for task in list(workflow.event_manager.tasks.values()):
        if isinstance(task.task_spec.event_definition, ConditionalEventDefinition) and task.state == TaskState.WAITING:
            # Its update inherits the data of the task before it first: the item goes there too.
            task.data["item"] = item
            if task.parent is not None:
                task.parent.data["item"] = item
            task.task_spec._update(task)
            fired += task.state != TaskState.WAITING
    if fired:
        workflow.do_engine_steps()
    return fired


def signals_thrown(workflow: BpmnWorkflow) -> list[tuple[str, dict[str, Any]]]:
    """Signals the instance threw since it was last asked (each throw event's once): for the tenant's other
    instances. The instance itself caught its own already, inside SpiffWorkflow."""
    specs = [workflow.spec, *workflow.subprocess_specs.values()]
    if not any(_throws_signal(t) for spec in specs for t in spec.task_specs.values()):
        return []  # nearly every process: no walk over its tasks
    sent: list[str] = workflow.data.setdefault(SENT, [])
    thrown: list[tuple[str, dict[str, Any]]] = []
    for task in workflow.get_tasks(state=TaskState.COMPLETED):
        if _throws_signal(task.task_spec) and str(task.id) not in sent:
            sent.append(str(task.id))
            thrown.append((task.task_spec.event_definition.name, {}))
    return thrown


_THROWS = frozenset({"IntermediateThrowEvent", "EndEvent", "SendTask"})


def _throws_signal(task_spec: Any) -> bool:
    definition = getattr(task_spec, "event_definition", None)
    return isinstance(definition, SignalEventDefinition) and type(task_spec).__name__ in _THROWS


def gateway_timers(workflow: BpmnWorkflow) -> list[tuple[str, str]]:
    """Timers racing other events in an event-based gateway: ``(name, due instant as ISO text)``. SpiffWorkflow
    lists the gateway as one waiting event without the timer's instant, so its durable timer was never set."""
    due = []
    for task in workflow.event_manager.tasks.values():
        definition = task.task_spec.event_definition
        if not isinstance(definition, MultipleEventDefinition):
            continue
        value = task._get_internal_data("event_value")
        timers = [d for d in definition.event_definitions if isinstance(d, TimerEventDefinition)]
        if timers and isinstance(value, str):
            due.append((timers[0].name or task.task_spec.bpmn_id or "timer", value))
    return due


def _definitions(definition: Any) -> Iterator[Any]:
    if isinstance(definition, MultipleEventDefinition):
        yield from definition.event_definitions
    else:
        yield definition


def problem(task_spec: Any) -> str | None:
    """Why Conveyor could never deliver the event the spec waits for (an upload refuses it), or None."""
    definition = getattr(task_spec, "event_definition", None)
    if isinstance(definition, MultipleEventDefinition) and type(task_spec).__name__ == "EventBasedGateway":
        for index, child in enumerate(definition.event_definitions):
            if isinstance(child, ConditionalEventDefinition):
                target = task_spec.outputs[index] if index < len(task_spec.outputs) else task_spec
                return f"{_id(target)}: a conditional event after an event-based gateway is not supported"
            if (found := _problem_of(child)) is not None:
                target = task_spec.outputs[index] if index < len(task_spec.outputs) else task_spec
                return f"{_id(target)}: {found}"
        return None
    found = _problem_of(definition)
    return f"{_id(task_spec)}: {found}" if found is not None else None


def _problem_of(definition: Any) -> str | None:
    if isinstance(definition, MessageEventDefinition):
        if not definition.name:
            return "a message event needs a bpmn:message with a name"
        if definition.name.startswith(RESERVED_PREFIXES) and definition.name not in BUILT_IN_MESSAGES:
            known = ", ".join(sorted(BUILT_IN_MESSAGES))
            return f"no built-in message {definition.name!r} (Conveyor sends {known})"
    elif isinstance(definition, SignalEventDefinition):
        if not definition.name:
            return "a signal event needs a bpmn:signal with a name"
    elif isinstance(definition, ConditionalEventDefinition):
        if not (definition.expression or "").strip():
            return "a conditional event needs a bpmn:condition"
        try:
            expressions.parse(definition.expression)
        except expressions.UnsafeExpression as error:
            return f"condition refused: {error}"
    return None


def _id(task_spec: Any) -> str:
    step_id = getattr(task_spec, "bpmn_id", None) or task_spec.name
    name = getattr(task_spec, "bpmn_name", None)
    return f"{step_id!r} ({name})" if name and name != step_id else repr(step_id)
