"""Which channels a user gets a kind of notification through."""

from __future__ import annotations

from typing import Any, Literal

Channel = Literal["in_app", "email"]
CHANNELS: tuple[Channel, ...] = ("in_app", "email")

# What a user gets before they choose: everything in-app, reminders by e-mail as well.
DEFAULTS: dict[str, list[Channel]] = {"*": ["in_app"], "reminder": ["in_app", "email"]}


def channels_for(chosen: dict[str, Any], kind: str) -> list[Channel]:
    """The user's choice for ``kind``, else their ``*`` choice, else the defaults."""
    for table in (chosen, DEFAULTS):
        for key in (kind, "*"):
            if key in table:
                return [c for c in CHANNELS if c in table[key]]
    return ["in_app"]
