"""The directory read model applies each event once, whatever order or how often events arrive."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from conveyor_access.directory import DIRECTORY_HANDLE_BATCH
from conveyor_contracts import directory as events
from conveyor_messaging.actor import Actor
from conveyor_messaging.envelope import Envelope

pytestmark = pytest.mark.integration


async def user_row(conn: asyncpg.Connection, tenant: str, user_id: str) -> dict[str, Any]:
    row = await conn.fetchrow("SELECT * FROM directory_users WHERE tenant_id = $1 AND user_id = $2", tenant, user_id)
    assert row is not None
    return dict(row)


class TestUsers:
    async def test_a_registered_user_is_kept_with_departments_and_roles(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        await feed.apply(
            events.UserRegistered(
                user_id="alice", name="Alice", email="a@x.io", department_ids=["sales"], roles=["manager"]
            )
        )

        row = await user_row(directory, tenant, "alice")

        assert (row["name"], row["department_ids"], row["roles"], row["active"], row["version"]) == (
            "Alice",
            ["sales"],
            ["manager"],
            True,
            1,
        )

    async def test_applying_the_same_events_again_changes_nothing(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        registered = await feed.apply(events.UserRegistered(user_id="bob", name="Bob", email="b@x.io"))
        changed = await feed.apply(
            events.UserChanged(
                user_id="bob",
                name="Robert",
                email="b@x.io",
                department_ids=["ops"],
                roles=[],
                active=True,
                changed=["name", "department_ids"],
            ),
            version=2,
        )
        deactivated = await feed.apply(events.UserDeactivated(user_id="bob"), version=3)
        before = await user_row(directory, tenant, "bob")

        for event in (registered, changed, deactivated, changed, registered):
            await feed.replay(event)

        assert await user_row(directory, tenant, "bob") == before
        assert (before["name"], before["active"], before["version"]) == ("Robert", False, 3)

    async def test_an_older_change_arriving_late_does_not_overwrite_a_newer_one(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        await feed.apply(
            events.UserChanged(
                user_id="carol",
                name="Carol v3",
                email="c@x.io",
                department_ids=[],
                roles=["head"],
                active=True,
                changed=["name"],
            ),
            version=3,
        )
        await feed.apply(events.UserRegistered(user_id="carol", name="Carol v1", email="c@x.io"), version=1)

        assert (await user_row(directory, tenant, "carol"))["name"] == "Carol v3"

    async def test_tenants_are_kept_apart(self, feed: Any, directory: asyncpg.Connection, tenant: str) -> None:
        await feed.apply(events.UserRegistered(user_id="dan", name="Dan of A", email="d@a.io"))
        await feed.apply(events.UserRegistered(user_id="dan", name="Dan of B", email="d@b.io"), tenant_id="other")

        assert (await user_row(directory, tenant, "dan"))["name"] == "Dan of A"
        assert (await user_row(directory, "other", "dan"))["name"] == "Dan of B"


class TestDepartments:
    async def test_a_removed_department_is_not_revived_by_a_late_change(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        await feed.apply(events.DepartmentCreated(department_id="d1", name="Sales"))
        late_change = events.DepartmentChanged(
            department_id="d1", name="Sales EU", parent_id=None, head_user_id=None, changed=["name"]
        )
        await feed.apply(events.DepartmentRemoved(department_id="d1"), version=3)
        await feed.apply(late_change, version=2)

        row = await directory.fetchrow(
            "SELECT name, removed FROM directory_departments WHERE tenant_id = $1 AND department_id = 'd1'", tenant
        )
        assert row is not None and (row["name"], row["removed"]) == ("Sales", True)


class TestAbsences:
    async def test_a_cancellation_applied_twice_keeps_the_absence_cancelled(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        recorded = await feed.apply(
            events.AbsenceRecorded(
                absence_id="ab1",
                user_id="alice",
                starts_at="2026-07-01T00:00:00Z",
                ends_at="2026-07-15T00:00:00Z",
                substitute_user_id="bob",
            )
        )
        cancelled = await feed.apply(events.AbsenceCancelled(absence_id="ab1", user_id="alice"), version=2)

        await feed.replay(recorded)
        await feed.replay(cancelled)

        row = await directory.fetchrow(
            "SELECT cancelled, version FROM directory_absences WHERE tenant_id = $1 AND absence_id = 'ab1'", tenant
        )
        assert row is not None and (row["cancelled"], row["version"]) == (True, 2)


class TestRoleGrants:
    async def test_a_new_matrix_replaces_the_old_one_and_an_old_one_never_comes_back(
        self, feed: Any, directory: asyncpg.Connection, tenant: str
    ) -> None:
        first = await feed.apply(
            events.RoleGrantsSet(role="manager", entity_type_id="docs", actions={"read": "all", "update": "own"})
        )
        await feed.apply(
            events.RoleGrantsSet(role="manager", entity_type_id="docs", actions={"read": "own"}), version=2
        )
        await feed.replay(first)

        actions = await directory.fetchval(
            "SELECT actions::text FROM directory_role_grants WHERE tenant_id = $1 AND role = 'manager'", tenant
        )
        assert actions == '{"read": "own"}'


class TestAFetchAtOnce:
    """What a service's directory consumer does: a whole fetch through ``DIRECTORY_HANDLE_BATCH``."""

    async def test_users_of_a_fetch_are_kept_set_based_newest_first_and_other_events_in_their_order(
        self, directory: asyncpg.Connection, tenant: str
    ) -> None:
        def envelope(contract: Any, subject: str, version: int) -> Envelope:
            return Envelope(
                type=contract.type_name, source="/conveyor/entities", subject=subject, tenant_id=tenant,
                data=contract.model_dump(mode="json"), actor=Actor.user("admin"), aggregate_version=version,
            )  # fmt: skip

        staff = [
            envelope(events.UserRegistered(user_id=f"u{n}", name=f"User {n}", email=f"u{n}@x.io"), f"user-u{n}", 1)
            for n in range(200)
        ]
        promoted = events.UserChanged(
            user_id="u7",
            name="User 7",
            email="u7@x.io",
            department_ids=["sales"],
            roles=["head"],
            active=True,
            changed=["department_ids", "roles"],
        )
        late = events.UserChanged(
            user_id="u8", name="Stale", email="u8@x.io", department_ids=[], roles=[], active=True, changed=["name"]
        )
        fetch = [
            *staff,
            envelope(promoted, "user-u7", 3),
            envelope(events.UserDeactivated(user_id="u9"), "user-u9", 2),
            envelope(events.DepartmentCreated(department_id="sales", name="Sales", head_user_id="u7"), "dep", 1),
        ]
        async with directory.transaction():
            await DIRECTORY_HANDLE_BATCH(directory, fetch)
        async with directory.transaction():  # an older change arriving late, and the whole fetch again
            await DIRECTORY_HANDLE_BATCH(directory, [envelope(late, "user-u8", 0), *fetch])

        assert await directory.fetchval("SELECT count(*) FROM directory_users WHERE tenant_id = $1", tenant) == 200
        seventh = await user_row(directory, tenant, "u7")
        assert (seventh["department_ids"], seventh["roles"], seventh["version"]) == (["sales"], ["head"], 3)
        assert (await user_row(directory, tenant, "u8"))["name"] == "User 8"
        assert (await user_row(directory, tenant, "u9"))["active"] is False
        head = await directory.fetchval(
            "SELECT head_user_id FROM directory_departments WHERE tenant_id = $1 AND department_id = 'sales'", tenant
        )
        assert head == "u7"
