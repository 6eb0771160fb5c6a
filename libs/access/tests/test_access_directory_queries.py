"""What services ask their copy of the directory: viewers, grants, role holders, heads, substitutes."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from conveyor_access import Action, Grant, Scope
from conveyor_access.directory import (
    head_of_department_of,
    load_grants,
    load_viewer,
    substitute_for,
    users_with_role,
)
from conveyor_contracts import directory as events

pytestmark = pytest.mark.integration

JULY_5 = datetime(2026, 7, 5, 12, tzinfo=UTC)


async def company(feed: Any) -> None:
    """company (head: ceo) > sales (head: helen) > east (head: none) > east-team; and support."""
    for department_id, parent, head in [
        ("company", None, "ceo"),
        ("sales", "company", "helen"),
        ("east", "sales", None),
        ("east-team", "east", "tom"),
        ("support", "company", "sam"),
    ]:
        await feed.apply(
            events.DepartmentCreated(
                department_id=department_id, name=department_id, parent_id=parent, head_user_id=head
            )
        )
    for user_id, departments, roles in [
        ("ceo", ["company"], ["director"]),
        ("helen", ["sales"], ["head", "manager"]),
        ("alice", ["sales"], ["manager"]),
        ("bob", ["east"], ["manager"]),
        ("tom", ["east-team"], ["manager"]),
        ("carol", ["east-team"], ["manager"]),
        ("sam", ["support"], ["support"]),
    ]:
        await feed.apply(
            events.UserRegistered(
                user_id=user_id, name=user_id, email=f"{user_id}@x.io", department_ids=departments, roles=roles
            )
        )


class TestLoadViewer:
    async def test_department_and_department_tree_resolve_to_user_ids(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        await company(feed)

        helen = await load_viewer(directory, tenant, "helen", {"head"})

        assert helen.roles == frozenset({"head"})
        assert helen.department_user_ids == {"helen", "alice"}
        assert helen.department_tree_user_ids == {"helen", "alice", "bob", "tom", "carol"}

    async def test_a_department_the_viewer_heads_counts_as_theirs(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        await company(feed)
        await feed.apply(
            events.UserRegistered(user_id="outsider", name="O", email="o@x.io", department_ids=["support"])
        )
        await feed.apply(events.DepartmentCreated(department_id="lab", name="Lab", head_user_id="outsider"))
        await feed.apply(events.UserRegistered(user_id="lina", name="L", email="l@x.io", department_ids=["lab"]))

        viewer = await load_viewer(directory, tenant, "outsider", set())

        assert "lina" in viewer.department_user_ids
        assert "sam" in viewer.department_user_ids

    async def test_removed_departments_no_longer_count(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        await company(feed)
        await feed.apply(events.DepartmentRemoved(department_id="east-team"), version=2)

        helen = await load_viewer(directory, tenant, "helen", {"head"})

        assert helen.department_tree_user_ids == {"helen", "alice", "bob"}

    async def test_a_user_without_a_department_sees_no_colleagues(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        await company(feed)

        stranger = await load_viewer(directory, tenant, "stranger", {"manager"})

        assert stranger.department_user_ids == frozenset() and stranger.department_tree_user_ids == frozenset()

    async def test_a_cycle_left_by_late_events_does_not_loop(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        await feed.apply(events.DepartmentCreated(department_id="a", name="A", parent_id="b"))
        await feed.apply(events.DepartmentCreated(department_id="b", name="B", parent_id="a"))
        await feed.apply(events.UserRegistered(user_id="u", name="U", email="u@x.io", department_ids=["a"]))
        await feed.apply(events.UserRegistered(user_id="v", name="V", email="v@x.io", department_ids=["b"]))

        viewer = await load_viewer(directory, tenant, "u", set())

        assert viewer.department_tree_user_ids == {"u", "v"}

    async def test_another_tenants_directory_is_not_consulted(self, feed: Any, directory: asyncpg.Connection) -> None:
        await company(feed)

        helen = await load_viewer(directory, "another-tenant", "helen", {"head"})

        assert helen.department_tree_user_ids == frozenset()


class TestLoadGrants:
    async def test_every_action_of_a_line_becomes_a_grant_and_removed_lines_none(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        await feed.apply(
            events.RoleGrantsSet(role="manager", entity_type_id="docs", actions={"read": "own", "create": "all"})
        )
        await feed.apply(
            events.RoleGrantsSet(role="manager", entity_type_id="docs", pipeline_id="secret", actions={"read": "none"}),
            version=2,
        )
        await feed.apply(
            events.RoleGrantsSet(role="manager", entity_type_id="docs", pipeline_id="gone", actions={"read": "all"}),
            version=4,
        )
        await feed.apply(
            events.RoleGrantsSet(role="manager", entity_type_id="docs", pipeline_id="gone", actions={}), version=5
        )
        await feed.apply(
            events.RoleGrantsSet(role="manager", entity_type_id="other", actions={"read": "all"}), version=3
        )

        grants = await load_grants(directory, tenant, "docs")

        assert set(grants) == {
            Grant("manager", "docs", Action.READ, Scope.OWN),
            Grant("manager", "docs", Action.CREATE, Scope.ALL),
            Grant("manager", "docs", Action.UPDATE, Scope.NONE),
            Grant("manager", "docs", Action.DELETE, Scope.NONE),
            *(Grant("manager", "docs", action, Scope.NONE, pipeline_id="secret") for action in Action),
        }
        assert await load_grants(directory, "another-tenant", "docs") == []


class TestUsersWithRole:
    async def test_only_active_holders_of_the_role_in_the_tenant(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        await company(feed)
        await feed.apply(events.UserDeactivated(user_id="carol"), version=2)
        await feed.apply(
            events.UserRegistered(user_id="zed", name="Z", email="z@x.io", roles=["manager"]),
            tenant_id="another-tenant",
        )

        assert await users_with_role(directory, tenant, "manager") == ["alice", "bob", "helen", "tom"]
        assert await users_with_role(directory, tenant, "nobody") == []


class TestHeadOfDepartmentOf:
    async def test_a_member_gets_the_head_of_their_department(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        await company(feed)

        assert await head_of_department_of(directory, tenant, "alice") == "helen"
        assert await head_of_department_of(directory, tenant, "carol") == "tom"

    async def test_a_head_or_a_department_without_one_escalates_upwards(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        await company(feed)

        assert await head_of_department_of(directory, tenant, "helen") == "ceo"
        assert await head_of_department_of(directory, tenant, "bob") == "helen"
        assert await head_of_department_of(directory, tenant, "tom") == "helen"
        assert await head_of_department_of(directory, tenant, "ceo") is None

    async def test_an_inactive_head_is_skipped(self, feed: Any, directory: asyncpg.Connection, tenant: str) -> None:
        await company(feed)
        await feed.apply(events.UserDeactivated(user_id="helen"), version=2)

        assert await head_of_department_of(directory, tenant, "alice") == "ceo"


class TestSubstituteFor:
    async def absent(self, feed: Any, absence_id: str, user: str, substitute: str | None) -> None:
        await feed.apply(
            events.AbsenceRecorded(
                absence_id=absence_id,
                user_id=user,
                starts_at=datetime(2026, 7, 1, tzinfo=UTC),
                ends_at=datetime(2026, 7, 15, tzinfo=UTC),
                substitute_user_id=substitute,
            )
        )

    async def test_a_present_user_needs_no_substitute(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        await self.absent(feed, "ab1", "alice", "bob")

        assert await substitute_for(directory, tenant, "bob", JULY_5) is None
        assert await substitute_for(directory, tenant, "alice", datetime(2026, 7, 15, tzinfo=UTC)) is None

    async def test_an_absent_users_substitute_takes_over(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        await self.absent(feed, "ab1", "alice", "bob")

        assert await substitute_for(directory, tenant, "alice", JULY_5) == "bob"
        assert await substitute_for(directory, "another-tenant", "alice", JULY_5) is None

    async def test_the_chain_is_followed_past_absent_substitutes(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        await self.absent(feed, "ab1", "alice", "bob")
        await self.absent(feed, "ab2", "bob", "carol")

        assert await substitute_for(directory, tenant, "alice", JULY_5) == "carol"

    async def test_a_chain_that_loops_or_ends_without_a_substitute_gives_nobody(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        await self.absent(feed, "ab1", "alice", "bob")
        await self.absent(feed, "ab2", "bob", "alice")
        await self.absent(feed, "ab3", "dora", None)

        assert await substitute_for(directory, tenant, "alice", JULY_5) is None
        assert await substitute_for(directory, tenant, "dora", JULY_5) is None

    async def test_a_cancelled_absence_does_not_count(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        await self.absent(feed, "ab1", "alice", "bob")
        await feed.apply(events.AbsenceCancelled(absence_id="ab1", user_id="alice"), version=2)

        assert await substitute_for(directory, tenant, "alice", JULY_5) is None
