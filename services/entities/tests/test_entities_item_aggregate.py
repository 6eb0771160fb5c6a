"""The item aggregate: folded from its events, deciding changes and recycle-bin moves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from entities.domain.errors import Conflict
from entities.domain.item import fold, with_changes

pytestmark = pytest.mark.unit

T0 = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
CREATED: dict[str, object] = {
    "item_id": "i-1",
    "entity_type_id": "t-1",
    "title": "Acme",
    "assignee_id": "alice",
    "observer_ids": ["bob"],
    "amount": "10.00",
    "currency": "EUR",
    "fields": {"status": "o-1"},
    "created_by": "alice",
}


def history() -> list[tuple[str, dict[str, object], datetime, int, str]]:
    return [
        ("conveyor.entities.item.created.v1", CREATED, T0, 1, "alice"),
        (
            "conveyor.entities.item.updated.v1",
            {
                "item_id": "i-1",
                "entity_type_id": "t-1",
                "changes": {"title": {"old": "Acme", "new": "Acme Ltd"}, "fields.status": {"old": "o-1", "new": None}},
            },
            T0 + timedelta(minutes=5),
            2,
            "robot:r-1",
        ),
        (
            "conveyor.entities.item.deleted.v1",
            {"item_id": "i-1", "entity_type_id": "t-1"},
            T0 + timedelta(hours=1),
            3,
            "bob",
        ),
    ]


class TestFold:
    def test_the_events_give_the_current_state(self) -> None:
        item = fold(history())

        assert item is not None
        assert (item.title, item.version, dict(item.fields)) == ("Acme Ltd", 3, {})
        assert item.updated_by == "robot:r-1"
        assert item.in_recycle_bin and item.deleted_by == "bob"

    def test_a_prefix_of_the_events_gives_the_item_as_it_was(self) -> None:
        item = fold(history()[:1])

        assert item is not None
        assert (item.title, item.version, item.observer_ids) == ("Acme", 1, ("bob",))

    def test_no_events_no_item(self) -> None:
        assert fold([]) is None


class TestDecisions:
    def test_changes_name_only_values_that_differ(self) -> None:
        item = fold(history()[:1])
        assert item is not None

        changes = item.changes_to({"title": "Acme", "amount": "12.00", "fields.status": "o-2", "fields.new": 5})

        assert changes == {
            "amount": {"old": "10.00", "new": "12.00"},
            "fields.status": {"old": "o-1", "new": "o-2"},
            "fields.new": {"old": None, "new": 5},
        }
        after = with_changes(item, changes, at=T0, version=2, by="alice")
        assert dict(after.fields) == {"status": "o-2", "new": 5} and after.amount == "12.00"

    def test_an_item_in_the_recycle_bin_takes_no_changes_and_cannot_be_deleted_twice(self) -> None:
        item = fold(history())
        assert item is not None

        with pytest.raises(Conflict, match="recycle bin"):
            item.changes_to({"title": "x"})
        with pytest.raises(Conflict, match="already"):
            item.check_can_delete()
        item.check_can_leave_bin("restored")

    def test_only_an_item_in_the_bin_can_be_restored_or_purged(self) -> None:
        item = fold(history()[:2])
        assert item is not None

        with pytest.raises(Conflict, match="purged"):
            item.check_can_leave_bin("purged")
