"""A process instance's saved state, compact: the process definition once, the run's tasks apart.

SpiffWorkflow's serialiser writes the whole process definition (every task spec of the template,
and of the templates it calls) into each instance's state and rebuilds it on every load: for a
50-task process that is more than half of the state and of the time of a step. Here the definition
is written once per instance as a separate line with its content hash, and the parsed definition is
kept in memory by that hash, so a step parses and rebuilds only the run's own tasks:

    <hash>\\n<definition JSON>\\n<workflow JSON without the definition>

A state written the old way (one JSON document) still loads.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from typing import Any

from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

MAX_CACHED_DEFINITIONS = 256

# hash -> (spec, subprocess specs, definition JSON); and the identity of a spec and its subprocess specs -> hash
_definitions: OrderedDict[str, tuple[Any, dict[str, Any], str]] = OrderedDict()
_hash_of: dict[tuple[Any, ...], str] = {}


def _identity(spec: Any, subprocess_specs: dict[str, Any]) -> tuple[Any, ...]:
    """The specs' object ids, not the dict's: a workflow without sub-processes gets a new empty dict
    (``subprocess_specs or {}``), so the dict's id would miss every time and convert the definition
    again on every save. The ids stay valid while ``_definitions`` holds the objects."""
    return (id(spec), *sorted((str(name), id(s)) for name, s in subprocess_specs.items()))


class _CompactWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    """The workflow without its definition, which it names by hash (see ``dumps``/``loads``)."""

    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["definition"] = _definition_of(workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any]) -> BpmnWorkflow:
        if "definition" not in dct:  # an old, self-contained state
            return super().from_dict(dct)
        spec, subprocess_specs, _ = _definitions[dct.pop("definition")]
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], _uuid, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(_uuid(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _uuid(text: str) -> Any:
    from uuid import UUID

    return UUID(text)


_config = dict(SPIFF_CONFIG)
_config[BpmnWorkflow] = _CompactWorkflowConverter
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_config))


def _definition_of(workflow: BpmnWorkflow) -> str:
    """The hash of the workflow's definition, converting it only the first time it is seen."""
    known = _hash_of.get(_identity(workflow.spec, workflow.subprocess_specs))
    if known is not None and known in _definitions and _definitions[known][0] is workflow.spec:
        return known
    registry = SERIALIZER.registry
    definition = {
        "spec": registry.convert(workflow.spec),
        "subprocess_specs": {str(name): registry.convert(s) for name, s in workflow.subprocess_specs.items()},
    }
    text = json.dumps(definition, cls=SERIALIZER._encoder_cls, sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()[:32]
    _remember(digest, workflow.spec, workflow.subprocess_specs, text)
    return digest


def _remember(digest: str, spec: Any, subprocess_specs: dict[str, Any], text: str) -> None:
    _definitions[digest] = (spec, subprocess_specs, text)
    _definitions.move_to_end(digest)
    _hash_of[_identity(spec, subprocess_specs)] = digest
    while len(_definitions) > MAX_CACHED_DEFINITIONS:
        _, (old_spec, old_subs, _) = _definitions.popitem(last=False)
        _hash_of.pop(_identity(old_spec, old_subs), None)


def dumps(workflow: BpmnWorkflow) -> str:
    digest = _definition_of(workflow)
    workflow_json: str = SERIALIZER.serialize_json(workflow)
    return f"{digest}\n{_definitions[digest][2]}\n{workflow_json}"


def loads(text: str) -> BpmnWorkflow:
    if text.startswith("{"):
        old: BpmnWorkflow = SERIALIZER.deserialize_json(text)
        return old
    digest, definition, workflow_json = text.split("\n", 2)
    if digest not in _definitions:
        restored = json.loads(definition, cls=SERIALIZER.json_decoder_cls)
        registry = SERIALIZER.registry
        spec = registry.restore(restored["spec"])
        subprocess_specs = {name: registry.restore(s) for name, s in restored["subprocess_specs"].items()}
        _remember(digest, spec, subprocess_specs, definition)
    _definitions.move_to_end(digest)
    workflow: BpmnWorkflow = SERIALIZER.deserialize_json(workflow_json)
    return workflow
