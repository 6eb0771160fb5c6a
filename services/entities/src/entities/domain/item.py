"""The item aggregate: its state folded from its events, and the decisions that emit new ones."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from entities.domain.errors import Conflict

SYSTEM_FIELDS = (
    "title",
    "assignee_id",
    "observer_ids",
    "amount",
    "currency",
    "begin_date",
    "close_date",
    "source",
    "client_id",
)


@dataclass(frozen=True)
class Item:
    """An item as of some version of its stream."""

    item_id: str
    entity_type_id: str
    title: str
    created_by: str
    created_at: datetime
    version: int
    assignee_id: str | None = None
    observer_ids: tuple[str, ...] = ()
    amount: str | None = None
    currency: str | None = None
    begin_date: str | None = None
    close_date: str | None = None
    source: str | None = None
    client_id: str | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    requested_pipeline_id: str | None = None
    requested_stage_id: str | None = None
    updated_by: str | None = None
    updated_at: datetime | None = None
    deleted_at: datetime | None = None
    deleted_by: str | None = None
    purged: bool = False

    @property
    def in_recycle_bin(self) -> bool:
        return self.deleted_at is not None

    def value(self, key: str) -> Any:
        """A value by its change key: a system field's name or `fields.<code>`."""
        if key.startswith("fields."):
            return self.fields.get(key.removeprefix("fields."))
        value = getattr(self, key)
        return list(value) if isinstance(value, tuple) else value

    def changes_to(self, proposed: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
        """{key: {"old", "new"}} for every proposed value that differs from the current one."""
        if self.in_recycle_bin:
            raise Conflict("the item is in the recycle bin; restore it first")
        changes: dict[str, dict[str, Any]] = {}
        for key, new in proposed.items():
            old = self.value(key)
            if old != new:
                changes[key] = {"old": old, "new": new}
        return changes

    def check_can_delete(self) -> None:
        if self.in_recycle_bin:
            raise Conflict("the item is already in the recycle bin")

    def check_can_leave_bin(self, action: str) -> None:
        if not self.in_recycle_bin:
            raise Conflict(f"only an item in the recycle bin can be {action}")


def created(data: Mapping[str, Any], at: datetime, version: int) -> Item:
    """The item an ItemCreated event describes."""
    return Item(
        item_id=data["item_id"],
        entity_type_id=data["entity_type_id"],
        title=data["title"],
        created_by=data["created_by"],
        created_at=at,
        version=version,
        assignee_id=data.get("assignee_id"),
        observer_ids=tuple(data.get("observer_ids") or ()),
        amount=data.get("amount"),
        currency=data.get("currency"),
        begin_date=data.get("begin_date"),
        close_date=data.get("close_date"),
        source=data.get("source"),
        client_id=data.get("client_id"),
        fields=dict(data.get("fields") or {}),
        requested_pipeline_id=data.get("requested_pipeline_id"),
        requested_stage_id=data.get("requested_stage_id"),
        updated_by=data["created_by"],
        updated_at=at,
    )


def apply(item: Item | None, type_name: str, data: Mapping[str, Any], at: datetime, version: int, by: str) -> Item:
    """The item after one more of its events."""
    event = type_name.removeprefix("conveyor.entities.item.").rsplit(".", 1)[0]
    if event == "created":
        return created(data, at, version)
    if item is None:
        raise ValueError(f"{type_name} before the item was created")
    if event == "updated":
        return with_changes(item, data["changes"], at=at, version=version, by=data.get("updated_by") or by)
    if event == "deleted":
        return replace(item, deleted_at=at, deleted_by=by, version=version)
    if event == "restored":
        return replace(item, deleted_at=None, deleted_by=None, version=version, updated_at=at, updated_by=by)
    if event == "purged":
        return replace(item, purged=True, version=version)
    return replace(item, version=version)


def with_changes(item: Item, changes: Mapping[str, Mapping[str, Any]], *, at: datetime, version: int, by: str) -> Item:
    """The item with the `new` side of each change applied."""
    system: dict[str, Any] = {}
    fields = dict(item.fields)
    for key, change in changes.items():
        if key.startswith("fields."):
            code = key.removeprefix("fields.")
            if change["new"] is None:
                fields.pop(code, None)
            else:
                fields[code] = change["new"]
        elif key == "observer_ids":
            system[key] = tuple(change["new"] or ())
        else:
            system[key] = change["new"]
    return replace(item, **system, fields=fields, version=version, updated_at=at, updated_by=by)


def fold(events: Iterable[tuple[str, Mapping[str, Any], datetime, int, str]]) -> Item | None:
    """The item its events describe: (type, data, occurred_at, version, actor id) in version order."""
    item: Item | None = None
    for type_name, data, at, version, by in events:
        item = apply(item, type_name, data, at, version, by)
    return item
