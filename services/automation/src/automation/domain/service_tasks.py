"""A BPMN service task as one of our actions: its operator names the action, its parameters its fields."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from automation.domain.robots import Action

ACTIONS: TypeAdapter[Action] = TypeAdapter(Action)


def service_action(operation: str, params: dict[str, Any]) -> Action:
    """The action of a service task with these (evaluated) parameters; recipients written as ``assignee``,
    ``role:manager``, ``user:u-1``, ``head_of_assignee`` (comma-separated for lists). Raises pydantic's
    ``ValidationError`` for parameters the action refuses."""
    params = dict(params)
    for key in ("recipients", "attendees"):
        if isinstance(params.get(key), str):
            params[key] = _recipients(params[key])
    for key in ("to", "assignee"):
        if isinstance(params.get(key), str):
            params[key] = _recipients(params[key])[0]
    body = {"type": operation, "fields": params} if operation == "set_fields" else {"type": operation, **params}
    action: Action = ACTIONS.validate_python(body)
    return action


def _recipients(text: str) -> list[dict[str, str]]:
    found = []
    for part in (p.strip() for p in text.split(",")):
        kind, _, ident = part.partition(":")
        found.append({"kind": kind, **({"id": ident} if ident else {})})
    return found
