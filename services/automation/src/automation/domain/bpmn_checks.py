"""What an uploaded BPMN file is checked for beyond parsing: the BPMN 2.0 schema (SpiffWorkflow's own
validator) and Camunda's extensions, which are mapped to ours or refused, never dropped without a word."""

from __future__ import annotations

import re
from typing import Any

from lxml import etree
from SpiffWorkflow.spiff.parser.process import VALIDATOR

CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
# Operaton (the Apache-2.0 continuation of Camunda 7) writes the same extensions in its own namespace.
OPERATON = "http://operaton.org/schema/1.0/bpmn"
CAMUNDA_LIKE = {CAMUNDA: "camunda", OPERATON: "operaton"}
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
# Engine hints that change nothing a Conveyor process does (jobs, history, versions): safe to leave.
HARMLESS = frozenset(
    {"asyncBefore", "asyncAfter", "exclusive", "jobPriority", "taskPriority", "historyTimeToLive", "versionTag",
     "isStartableInTasklist"}
)  # fmt: skip
# Camunda's form field types as our form's kinds (a Camunda `date` is an instant).
FORM_KINDS = {"string": "string", "long": "number", "boolean": "boolean", "date": "datetime"}
CODE = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_SCHEMA_PROBLEMS = 5


class Refused(ValueError):
    """The file is not usable as it is; the message names the element."""


def xml_of(bpmn: str) -> Any:
    """The file as a tree (line numbers kept), without entities or network."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(bpmn.encode(), parser)
    except etree.XMLSyntaxError as error:
        raise Refused(f"not XML: {error}") from None


def check_schema(root: Any) -> None:
    """Refuse a file the BPMN 2.0 schema (with SpiffWorkflow's extensions) does not allow, naming the
    elements: a duplicate id, an element out of its place, an unknown attribute in the BPMN namespace."""
    seen: set[str] = set()
    for node in root.iter():
        # The OMG's namespaces' ids only (BPMN, diagrams): an extension's `id` (spiffworkflow's operator) is a name.
        ident = node.get("id") if isinstance(node.tag, str) and node.tag.startswith("{http://www.omg.org/") else None
        if ident is None:
            continue
        if ident in seen:
            raise Refused(f"{named(node)}: the id {ident!r} is used by another element too (ids are unique in a file)")
        seen.add(ident)
    VALIDATOR.preprocess(root)
    if VALIDATOR.validator.validate(root):
        return
    problems = [
        f"{_element_at(root, e.line, e.message)}: {e.message.replace('{' + BPMN + '}', 'bpmn:')}"
        for e in VALIDATOR.validator.error_log
    ]
    raise Refused("; ".join(problems[:MAX_SCHEMA_PROBLEMS]))


def _element_at(root: Any, line: int, message: str) -> str:
    """The element an error of the schema is about: the one of the tag it names on its line, or the
    nearest around it that has an id."""
    tag = re.match(r"Element '([^']+)'", message)
    for node in root.iter():
        if node.sourceline == line and (tag is None or node.tag == tag.group(1)):
            while node is not None and node.get("id") is None:
                node = node.getparent()
            if node is not None:
                return named(node)
    return f"line {line}"


def named(node: Any) -> str:
    """An element as a refusal names it: its kind, id and name."""
    kind = etree.QName(node).localname
    return f"{kind} '{node.get('id')}'" + (f" ({node.get('name')})" if node.get("name") else "")


def camunda_user_tasks(root: Any) -> dict[str, dict[str, Any]]:
    """Camunda's `assignee`, `candidateUsers`, `candidateGroups` and `formData` of each user task, as our
    properties by the task's id (``assignee``: ``user:<id>`` or ``role:<group>``; ``form_fields``); any
    other Camunda extension that would change what runs is refused, naming its element."""
    found: dict[str, dict[str, Any]] = {}
    for node in root.iter():
        if not isinstance(node.tag, str):
            continue
        mapped: set[str] = set()
        if node.tag == f"{{{BPMN}}}userTask":
            properties, mapped = _user_task(node)
            if properties:
                found[node.get("id")] = properties
        for attribute in node.attrib:
            name = etree.QName(attribute)
            if name.namespace in CAMUNDA_LIKE and name.localname not in HARMLESS | mapped:
                prefix = CAMUNDA_LIKE[name.namespace]
                raise Refused(f"{named(_owner(node))}: {prefix}:{name.localname} is not supported")
        tag = etree.QName(node)
        if tag.namespace in CAMUNDA_LIKE and not _in_a_user_task_form(node):
            raise Refused(f"{named(_owner(node))}: {CAMUNDA_LIKE[tag.namespace]}:{tag.localname} is not supported")
    return found


def _owner(node: Any) -> Any:
    while node.getparent() is not None and node.get("id") is None:
        node = node.getparent()
    return node


def _in_a_user_task_form(node: Any) -> bool:
    """Inside a user task's ``camunda:formData`` (read by ``_user_task``; a start event's form is refused)."""
    for ancestor in [node, *node.iterancestors()]:
        if ancestor.tag in {f"{{{namespace}}}formData" for namespace in CAMUNDA_LIKE}:
            return bool(_owner(ancestor).tag == f"{{{BPMN}}}userTask")
    return False


def _user_task(node: Any) -> tuple[dict[str, Any], set[str]]:
    """Our properties from the task's Camunda attributes and form, and the attributes that gave them."""
    given = {
        f"{prefix}:{key}": value
        for key in ("assignee", "candidateUsers", "candidateGroups")
        for namespace, prefix in CAMUNDA_LIKE.items()
        if (value := node.get(f"{{{namespace}}}{key}")) is not None
    }
    properties: dict[str, Any] = {}
    if len(given) > 1:
        raise Refused(f"{named(node)}: give one of camunda:assignee, candidateUsers, candidateGroups, not several")
    for key, value in given.items():
        value = value.strip()
        if not value or "${" in value or "#{" in value or "," in value:
            raise Refused(
                f"{named(node)}: {key} takes one user or group id here, not {value!r} (an expression or"
                " a list); use spiffworkflow:properties assignee (assignee, head_of_assignee, user:<id>, role:<name>)"
            )
        properties["assignee"] = f"role:{value}" if key.endswith(":candidateGroups") else f"user:{value}"
    forms = (node.find(f"{{{BPMN}}}extensionElements/{{{namespace}}}formData") for namespace in CAMUNDA_LIKE)
    form = next((found for found in forms if found is not None), None)
    if form is not None:
        properties["form_fields"] = [_form_field(node, field) for field in form]
    return properties, {key.split(":")[1] for key in given}


def _form_field(task: Any, field: Any) -> dict[str, Any]:
    code, kind = field.get("id") or "", field.get("type") or "string"
    where = f"{named(task)}: form field {code!r}"
    if etree.QName(field).localname != "formField":
        raise Refused(f"{named(task)}: camunda:{etree.QName(field).localname} is not supported in a form")
    if not CODE.match(code):
        raise Refused(f"{where}: a field id is lower-case letters, digits and `_`, starting with a letter")
    if kind not in FORM_KINDS:
        raise Refused(f"{where}: type {kind!r} is not supported (string, long, boolean, date)")
    extra = set(field.attrib) - {"id", "label", "type"}
    if extra:
        raise Refused(f"{where}: {', '.join(sorted(extra))} not supported")
    required = False
    for child in field.iter():
        if child is field or etree.QName(child).localname in ("validation",):
            continue
        if etree.QName(child).localname == "constraint" and child.get("name") == "required":
            required = True
        else:
            raise Refused(
                f"{where}: {etree.QName(child).localname} {child.get('name') or ''} is not supported".rstrip()
            )
    return {"code": code, "kind": FORM_KINDS[kind], "label": field.get("label") or code, "required": required}


def naming_the_call(root: Any, message: str) -> str:
    """A parse error about a called process no file defines, led by the call activity that calls it
    (SpiffWorkflow names only the process)."""
    missing = re.search(r"The process '([^']+)' was not found", message)
    if root is None or missing is None or message.startswith("callActivity"):
        return message
    for node in root.iter(f"{{{BPMN}}}callActivity"):
        if node.get("calledElement") == missing.group(1):
            return f"{named(node)}: calls {missing.group(1)!r}, which no template defines ({message})"
    return message
