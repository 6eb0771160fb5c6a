"""Event contracts: frozen pydantic models with stable, versioned wire names.

A contract names itself with ``type_name`` (``conveyor.<service>.<aggregate>.<event>.v<N>``);
the Python class name never reaches the wire, so renaming a class breaks nothing. A new
version of an event is a new contract plus an upcaster from the old one, registered here.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

TYPE_NAME = re.compile(
    r"^conveyor\.(?P<service>[a-z]+)\.(?P<aggregate>[a-z_]+)\.(?P<event>[a-z_]+)\.v(?P<version>\d+)$"
)

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class UnknownEventType(LookupError):
    """No contract is registered under this type name."""


class EventContract(BaseModel):
    """Base of every event that crosses a service boundary."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    type_name: ClassVar[str]
    summary: ClassVar[str] = ""

    def __init_subclass__(cls, *, type_name: str | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if type_name is None:  # an abstract intermediate base
            return
        if not TYPE_NAME.match(type_name):
            raise ValueError(f"{type_name!r} is not conveyor.<service>.<aggregate>.<event>.v<N>")
        cls.type_name = type_name
        cls.summary = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        registry.register(cls)

    @classmethod
    def topic(cls) -> str:
        return topic_for(cls.type_name)


def topic_for(type_name: str) -> str:
    """One topic per aggregate: ``conveyor.<service>.<aggregate>``; keeps an aggregate's events in order."""
    match = TYPE_NAME.match(type_name)
    if not match:
        raise ValueError(f"{type_name!r} is not a Conveyor event type name")
    return f"conveyor.{match['service']}.{match['aggregate']}"


class ContractRegistry:
    """Maps wire type names to contracts, and old versions to upcasters."""

    def __init__(self) -> None:
        self._contracts: dict[str, type[EventContract]] = {}
        self._upcasters: dict[str, tuple[str, Upcaster]] = {}

    def register(self, contract: type[EventContract]) -> None:
        existing = self._contracts.get(contract.type_name)
        if existing is not None and existing.__qualname__ != contract.__qualname__:
            raise ValueError(f"{contract.type_name} is already taken by {existing.__qualname__}")
        self._contracts[contract.type_name] = contract

    def register_upcaster(self, old_type: str, new_type: str, upcast: Upcaster) -> None:
        self._upcasters[old_type] = (new_type, upcast)

    def __iter__(self):  # type: ignore[no-untyped-def]
        return iter(sorted(self._contracts.values(), key=lambda c: c.type_name))

    def resolve(self, type_name: str) -> type[EventContract]:
        try:
            return self._contracts[type_name]
        except KeyError:
            raise UnknownEventType(type_name) from None

    def decode(self, type_name: str, data: dict[str, Any]) -> EventContract:
        """Validate data into its contract, upcasting old versions first."""
        while type_name in self._upcasters:
            type_name, upcast = self._upcasters[type_name]
            data = upcast(data)
        return self.resolve(type_name).model_validate(data)


registry = ContractRegistry()
