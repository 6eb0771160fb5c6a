"""A BPMN service task as one of our actions: its operator names the action, its parameters its fields."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

from automation.domain.robots import Action, parse_recipient

ACTIONS: TypeAdapter[Action] = TypeAdapter(Action)


def service_action(operation: str, params: dict[str, Any]) -> Action:
    """The action of a service task with these (evaluated) parameters; recipients written as ``assignee``,
    ``creator``, ``observers``, ``role:manager``, ``user:u-1``, ``field:<code>``, ``head_of:<recipient>``
    (comma-separated for lists); addresses comma-separated too (docs/automation.md, "Service-task
    operators"). Raises pydantic's
    ``ValidationError`` for parameters the action refuses."""
    params = dict(params)
    for key in ("recipients", "attendees"):
        if isinstance(params.get(key), str):
            params[key] = _recipients(params[key])
    for key in ("to", "assignee"):
        if isinstance(params.get(key), str):
            params[key] = _recipients(params[key])[0]
    if isinstance(params.get("addresses"), str):
        params["addresses"] = [part.strip() for part in params["addresses"].split(",") if part.strip()]
    body = {"type": operation, "fields": params} if operation == "set_fields" else {"type": operation, **params}
    action: Action = ACTIONS.validate_python(body)
    return action


def _recipients(text: str) -> list[dict[str, Any]]:
    return [parse_recipient(part) for part in text.split(",") if part.strip()]
