"""The directory's rules, without a database."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from entities.domain.directory import (
    DirectoryRefusal,
    UserProfile,
    changed_fields,
    check_absence_period,
    check_departments_known,
    check_no_cycle,
)

pytestmark = pytest.mark.unit

PARENTS = {"company": None, "sales": "company", "east": "sales", "support": "company"}


class TestDepartmentTree:
    def test_a_department_may_move_under_a_department_outside_its_subtree(self) -> None:
        check_no_cycle("east", "support", PARENTS)
        check_no_cycle("sales", None, PARENTS)

    @pytest.mark.parametrize("new_parent", ["company", "sales", "east"])
    def test_a_department_may_not_move_under_itself_or_below_itself(self, new_parent: str) -> None:
        with pytest.raises(DirectoryRefusal) as refusal:
            check_no_cycle("company", new_parent, PARENTS)
        assert refusal.value.field == "/body/parent_id"

    def test_a_cycle_already_present_above_does_not_hang_the_check(self) -> None:
        check_no_cycle("x", "a", {"a": "b", "b": "a"})


class TestUserDepartments:
    def test_every_department_must_be_known_and_listed_once(self) -> None:
        check_departments_known(["sales"], {"sales", "ops"}, pointer="/body/department_ids")
        with pytest.raises(DirectoryRefusal) as unknown:
            check_departments_known(["sales", "nowhere"], {"sales"}, pointer="/body/department_ids")
        with pytest.raises(DirectoryRefusal) as twice:
            check_departments_known(["sales", "sales"], {"sales"}, pointer="/body/department_ids")
        assert (unknown.value.field, twice.value.field) == ("/body/department_ids/1", "/body/department_ids")

    def test_only_the_fields_that_differ_are_named_as_changed(self) -> None:
        old = UserProfile("alice", "Alice", "a@x.io", ["sales"], ["manager"])
        new = UserProfile("alice", "Alice", "a@x.io", ["ops"], ["manager"], active=False)

        assert changed_fields(old, new, ("name", "email", "department_ids", "roles", "active")) == [
            "department_ids",
            "active",
        ]


class TestAbsencePeriod:
    def test_an_absence_ends_after_it_starts_and_nobody_substitutes_themselves(self) -> None:
        july_1, july_2 = datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 7, 2, tzinfo=UTC)
        check_absence_period(july_1, july_2, "alice", "bob")
        with pytest.raises(DirectoryRefusal) as backwards:
            check_absence_period(july_2, july_1, "alice", None)
        with pytest.raises(DirectoryRefusal) as self_substitute:
            check_absence_period(july_1, july_2, "alice", "alice")
        assert backwards.value.field == "/body/ends_at"
        assert self_substitute.value.field == "/body/substitute_user_id"
