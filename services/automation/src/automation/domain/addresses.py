"""Where an action's people and e-mail addresses come from, checked when a robot is saved: what can never
be valid (an address that is no address, a field the type does not have or that holds no address, a user
or role without its id) is refused then, rather than failing every run."""

from __future__ import annotations

import re
from typing import Any

# Field kinds whose value can be an e-mail address.
ADDRESS_KINDS = frozenset({"email", "string", "text"})
# An address read from the item: `{{ item.contact_email }}` (or `{{ item.fields.contact_email }}`).
FROM_A_FIELD = re.compile(r"^\{\{\s*item\.(?:fields\.)?([a-z][a-z0-9_]*)\s*\}\}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
RECIPIENT_LISTS = ("recipients", "attendees")
SINGLE_RECIPIENTS = ("to", "assignee")


def problems(action: Any, fields: dict[str, str] | None) -> list[dict[str, str]]:
    """What in the action can never reach anyone, as ``{"field": <JSON pointer>, "message": ...}``; ``fields``:
    the item type's custom fields (code → kind), None when not known (field addresses are then not checked)."""
    found = [
        {"field": f"/action/addresses/{n}", "message": message}
        for n, address in enumerate(getattr(action, "addresses", None) or [])
        if (message := _address_problem(address, fields)) is not None
    ]
    for key in RECIPIENT_LISTS + SINGLE_RECIPIENTS:
        value = getattr(action, key, None)
        people = value if isinstance(value, list) else [value] if value is not None else []
        for n, person in enumerate(people):
            if getattr(person, "kind", None) in ("user", "role") and not person.id:
                where = f"/action/{key}/{n}/id" if isinstance(value, list) else f"/action/{key}/id"
                found.append({"field": where, "message": f"a {person.kind} recipient names its id"})
    return found


def _address_problem(address: str, fields: dict[str, str] | None) -> str | None:
    if "{" not in address:
        return None if EMAIL.match(address) else f"{address!r} is not an e-mail address"
    from_field = FROM_A_FIELD.match(address)
    if from_field is None:
        return "an address is an e-mail address or a field of the item: `{{ item.<field code> }}`"
    code = from_field.group(1)
    if fields is None:
        return None
    if code not in fields:
        return f"the item's type has no field {code!r}"
    if fields[code] not in ADDRESS_KINDS:
        return f"the field {code!r} is a {fields[code]} field, not an e-mail or text field"
    return None


def rendered(address: str) -> str | None:
    """An address as rendered when the action runs: None for an empty field (nobody to write to there);
    raises ``ValueError`` for a value that is no e-mail address (the run fails, naming it)."""
    value = address.strip()
    if not value:
        return None
    if not EMAIL.match(value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value
