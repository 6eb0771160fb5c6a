"""Who or what caused a change: a user, a robot, a business process or the system itself."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ActorKind = Literal["user", "robot", "process", "system"]


@dataclass(frozen=True, slots=True)
class Actor:
    """The author of an event, shown on timelines as "who or what did it"."""

    kind: ActorKind
    id: str

    @classmethod
    def user(cls, user_id: str) -> Actor:
        return cls("user", user_id)

    @classmethod
    def robot(cls, robot_id: str) -> Actor:
        return cls("robot", robot_id)

    @classmethod
    def process(cls, instance_id: str) -> Actor:
        return cls("process", instance_id)

    @classmethod
    def system(cls, component: str) -> Actor:
        return cls("system", component)

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def parse(cls, text: str) -> Actor:
        kind, sep, ident = text.partition(":")
        if not sep or kind not in ("user", "robot", "process", "system") or not ident:
            raise ValueError(f"not an actor: {text!r} (expected kind:id)")
        return cls(kind, ident)  # type: ignore[arg-type]
