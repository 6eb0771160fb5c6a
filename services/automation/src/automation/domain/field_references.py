"""The item's fields an action or a process takes people and addresses from, checked against the kinds of
the type's fields when a robot or a template is saved: a ``field:<code>`` recipient needs a user field, a
``field:<code>`` address an e-mail field."""

from __future__ import annotations

import ast
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from automation.domain.robots import Recipient

RECIPIENT_PARAMETERS = ("recipients", "attendees", "to", "assignee")


@dataclass(frozen=True, slots=True)
class FieldUse:
    """``where`` (a robot's parameter, or a BPMN element and its parameter) reads field ``code`` as ``kind``."""

    where: str
    code: str
    kind: str  # user | email


def misused(uses: list[FieldUse], kinds: dict[str, str]) -> tuple[FieldUse, str] | None:
    """The first use whose field is missing from the type or of another kind, with what the field is."""
    for use in uses:
        if kinds.get(use.code) != use.kind:
            return use, (f"is a {kinds[use.code]} field" if use.code in kinds else "is not a field of the type")
    return None


def describe(use: FieldUse, found: str) -> str:
    wanted = "a user" if use.kind == "user" else "an e-mail"
    return f"{use.where}: field:{use.code} must be {wanted} field, and {use.code!r} {found}"


class InvalidRecipientText(ValueError):
    """A BPMN element names a recipient that cannot be."""


def uses_in_process(task_specs: list[Any]) -> list[FieldUse]:
    """What a template's user tasks (``assignee``) and service tasks (recipient and address parameters written
    as text constants) read from the item. A recipient that cannot be (``boss``, ``field`` without a code)
    raises ``InvalidRecipientText`` naming the element."""
    uses: list[FieldUse] = []
    for task_spec in task_specs:
        element = getattr(task_spec, "bpmn_id", None) or task_spec.name
        properties = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
        if getattr(task_spec, "manual", False) or "assignee" in properties:
            uses += _recipients(f"{element}: assignee", properties.get("assignee", "assignee"))
        for name, param in (getattr(task_spec, "operation_params", None) or {}).items():
            text = _constant_text(param.get("value"))
            if text is None:
                continue
            if name in RECIPIENT_PARAMETERS:
                uses += _recipients(f"{element}: {name}", text)
            elif name == "addresses":
                codes = [a.strip().removeprefix("field:") for a in text.split(",") if a.strip().startswith("field:")]
                uses += [FieldUse(f"{element}: addresses", code, "email") for code in codes]
    return uses


def _recipients(where: str, text: str) -> list[FieldUse]:
    uses = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        try:
            recipient = Recipient.model_validate(part)
        except ValidationError as error:
            reason = error.errors()[0]["msg"].removeprefix("Value error, ")
            raise InvalidRecipientText(f"{where}: {part!r} is no recipient ({reason})") from None
        uses += [FieldUse(where, code, "user") for code in sorted(recipient.field_codes())]
    return uses


def _constant_text(expression: Any) -> str | None:
    """The text an expression is when it is a text constant (``'"field:approver"'``); None otherwise."""
    if not isinstance(expression, str):
        return None
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError:
        return None
    body = tree.body
    return body.value if isinstance(body, ast.Constant) and isinstance(body.value, str) else None
