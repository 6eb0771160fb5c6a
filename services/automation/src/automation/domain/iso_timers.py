"""Timer events written as modellers write them: a bare ISO 8601 duration, date or cycle (``PT1H``,
``2027-01-01T09:00:00Z``, ``R3/PT10M``) is that text, not an expression naming a variable ``PT1H``.

Camunda Modeler, Operaton and bpmn.io files all write timers so; SpiffWorkflow reads a timer as an
expression (``"PT1H"``), so without this such a file would fail at its first timer."""

from __future__ import annotations

import re
from typing import Any

_DURATION = r"P(?=\d|T\d)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(\d+H)?(\d+M)?(\d+([.,]\d+)?S)?)?"
_INSTANT = r"\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}([.,]\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?"
ISO_8601 = re.compile(rf"^(R\d*/)?({_DURATION}|{_INSTANT})(/({_DURATION}|{_INSTANT}))?$")


def quote_iso_literal(task_spec: Any) -> None:
    """Make a timer event's bare ISO 8601 text a text constant of the expression language."""
    definition: Any = getattr(task_spec, "event_definition", None)
    expression = getattr(definition, "expression", None)
    if isinstance(expression, str) and ISO_8601.match(expression.strip()):
        definition.expression = repr(expression.strip())
