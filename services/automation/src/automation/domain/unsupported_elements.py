"""Elements of BPMN files from other modellers and engines that our processes cannot run to their end,
refused at upload naming the element, instead of an instance that waits forever or a step that fails.

Found by running real files (``tests/data/bpmn/third_party``): a process not marked executable, start
events of kinds nothing in Conveyor starts by, a boundary event without an event definition."""

from __future__ import annotations

from typing import Any

from lxml import etree

from automation.domain.bpmn_checks import BPMN, Refused, named

# What an instance would wait for that nothing delivers to it: message, signal and conditional start
# events inside a process (event sub-processes; a top-level one is refused by START_RULE below) and receive
# tasks. Intermediate catch and boundary events of these kinds are delivered (``domain/process_events.py``).
NOT_DELIVERED = {
    "messageEventDefinition": "a message start event of an event sub-process is not supported",
    "signalEventDefinition": "a signal start event of an event sub-process is not supported",
    "conditionalEventDefinition": "a conditional start event is not supported",
}
CATCHING = ("startEvent", "intermediateCatchEvent", "boundaryEvent")
START_RULE = "a template starts by its start rule (manual, on_create, on_change), not by a"
DEFINITIONS = (
    "messageEventDefinition", "signalEventDefinition", "conditionalEventDefinition", "timerEventDefinition",
    "errorEventDefinition", "escalationEventDefinition", "compensateEventDefinition", "cancelEventDefinition",
    "linkEventDefinition", "terminateEventDefinition",
)  # fmt: skip


def refuse_unsupported(root: Any) -> None:
    """Raise ``Refused`` naming the first element of the file our processes cannot run."""
    processes = root.findall(f"{{{BPMN}}}process")
    if processes and not any(p.get("isExecutable") == "true" for p in processes):
        raise Refused(
            f"{named(processes[0])}: isExecutable is not true, so the file has no executable process"
            " (tick 'Executable' in the modeller)"
        )
    for node in root.iter(*(f"{{{BPMN}}}{kind}" for kind in (*CATCHING, "receiveTask"))):
        kind = etree.QName(node).localname
        if kind == "receiveTask":
            raise Refused(f"{named(node)}: a receive task waits for a message: use a message intermediate catch event")
        definitions = [etree.QName(child).localname for child in node if etree.QName(child).localname in DEFINITIONS]
        if kind == "boundaryEvent" and not definitions:
            raise Refused(f"{named(node)}: a boundary event needs an event definition (a timer, an error…)")
        for definition in definitions:
            top_level = etree.QName(node.getparent()).localname == "process"
            if kind == "startEvent" and top_level and definition in ("messageEventDefinition", "signalEventDefinition"):
                what = definition.removesuffix("EventDefinition")
                raise Refused(f"{named(node)}: {START_RULE} {what}")
            if kind == "startEvent" and definition in NOT_DELIVERED:
                raise Refused(f"{named(node)}: {NOT_DELIVERED[definition]}")
