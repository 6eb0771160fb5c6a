"""The directory API: admins change users, departments, absences and grants; the tenant reads them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx
import pytest
from conveyor_access.directory import (
    DIRECTORY_DDL_V1,
    DIRECTORY_HANDLERS,
    DIRECTORY_TOPICS,
    head_of_department_of,
    users_with_role,
)
from conveyor_kit.migrations import upgrade_in_thread
from conveyor_kit.tokens import mint_token
from conveyor_messaging.consumer import route
from conveyor_messaging.runtime import Backbone, Subscription
from conveyor_messaging.schema import BACKBONE_DDL
from entities.config import Settings
from entities.entrypoints.http import create
from entities.migrations import MIGRATIONS_PATH

pytestmark = pytest.mark.integration

SECRET = "directory-test-secret-long-enough-for-hs256"


class Directory:
    """An HTTP client of the directory API for one tenant, as its admin unless told otherwise."""

    def __init__(self, client: httpx.AsyncClient, tenant: str) -> None:
        self.client = client
        self.tenant = tenant

    def auth(
        self, user: str = "root", roles: tuple[str, ...] = ("admin",), tenant: str | None = None
    ) -> dict[str, str]:
        token = mint_token(tenant_id=tenant or self.tenant, user_id=user, roles=roles, secret=SECRET)
        return {"Authorization": f"Bearer {token}"}

    async def call(self, method: str, path: str, body: Any = None, **auth: Any) -> httpx.Response:
        return await self.client.request(method, f"/v1/directory{path}", json=body, headers=self.auth(**auth))

    async def ok(self, method: str, path: str, body: Any = None, **auth: Any) -> Any:
        response = await self.call(method, path, body, **auth)
        assert response.status_code < 300, response.text
        return response.json() if response.content else None

    async def items(self, path: str, **auth: Any) -> list[Any]:
        """A collection's first page, which holds all of it."""
        page = await self.ok("GET", path, **auth)
        assert page["next_cursor"] is None
        items: list[Any] = page["items"]
        return items

    async def user(self, user_id: str, departments: list[str] | None = None, roles: list[str] | None = None) -> Any:
        body = {"id": user_id, "name": user_id.title(), "email": f"{user_id}@example.com"}
        return await self.ok("POST", "/users", {**body, "department_ids": departments or [], "roles": roles or []})

    async def department(self, department_id: str, parent: str | None = None, head: str | None = None) -> Any:
        body = {
            "id": department_id,
            "name": department_id.title(),
            "parent_id": parent,
            "head_user_id": head,
        }
        return await self.ok("POST", "/departments", body)


@pytest.fixture
async def app_client(fresh_database: str, infra: Any) -> AsyncIterator[httpx.AsyncClient]:
    await upgrade_in_thread(MIGRATIONS_PATH, fresh_database)
    settings = Settings(
        database_url=fresh_database,
        kafka_bootstrap_servers=infra.kafka_bootstrap,
        environment="test",
        jwt_secret=SECRET,
    )
    app = create(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://entities.test") as client,
    ):
        yield client


@pytest.fixture
def api(app_client: httpx.AsyncClient) -> Directory:
    return Directory(app_client, f"tenant-{uuid.uuid4().hex[:8]}")


def problem_fields(response: httpx.Response) -> list[str]:
    assert response.headers["content-type"] == "application/problem+json", response.text
    return [error["field"] for error in response.json().get("errors", [])]


class TestUsers:
    async def test_an_admin_registers_a_user_whom_everyone_of_the_tenant_can_read(self, api: Directory) -> None:
        await api.department("sales")

        created = await api.user("alice", ["sales"], ["manager"])
        fetched = await api.ok("GET", "/users/alice", user="bob", roles=())
        listed = await api.items("/users?department_id=sales", user="bob", roles=())

        assert (
            created
            == fetched
            == {
                "id": "alice",
                "name": "Alice",
                "email": "alice@example.com",
                "department_ids": ["sales"],
                "roles": ["manager"],
                "active": True,
            }
        )
        assert [u["id"] for u in listed] == ["alice"]

    async def test_a_change_applies_only_the_fields_sent_and_is_read_back_at_once(self, api: Directory) -> None:
        await api.department("sales")
        await api.department("ops")
        await api.user("alice", ["sales"], ["manager"])

        changed = await api.ok("PATCH", "/users/alice", {"department_ids": ["ops", "sales"], "name": None})

        assert changed["department_ids"] == ["ops", "sales"] and changed["name"] == "Alice"
        assert (await api.ok("GET", "/users/alice"))["department_ids"] == ["ops", "sales"]

    async def test_a_deactivated_user_leaves_the_default_list(self, api: Directory) -> None:
        await api.user("alice")
        await api.user("bob")

        deactivated = await api.ok("POST", "/users/bob/deactivate")

        assert deactivated["active"] is False
        assert [u["id"] for u in await api.items("/users")] == ["alice"]
        assert len(await api.items("/users?include_inactive=true")) == 2

    async def test_users_are_listed_by_name_page_by_page(self, api: Directory) -> None:
        for user_id in ("dora", "ann", "cleo", "bea", "eve"):
            await api.user(user_id)

        first = await api.ok("GET", "/users?limit=2")
        second = await api.ok("GET", f"/users?limit=2&cursor={first['next_cursor']}")
        last = await api.ok("GET", f"/users?limit=2&cursor={second['next_cursor']}")
        forged = await api.call("GET", "/users?cursor=WzEsMl0")  # [1,2]: no name and id

        assert [[u["id"] for u in p["items"]] for p in (first, second, last)] == [
            ["ann", "bea"],
            ["cleo", "dora"],
            ["eve"],
        ]
        assert last["next_cursor"] is None
        assert (forged.status_code, forged.json()["type"].rsplit("/", 1)[-1]) == (422, "invalid-cursor")

    async def test_an_unknown_department_is_refused_naming_the_field_and_nothing_changes(self, api: Directory) -> None:
        await api.department("sales")

        response = await api.call(
            "POST",
            "/users",
            {"id": "alice", "name": "A", "email": "a@x.io", "department_ids": ["sales", "nowhere"]},
        )

        assert response.status_code == 422
        assert problem_fields(response) == ["/body/department_ids/1"]
        assert (await api.call("GET", "/users/alice")).status_code == 404

    async def test_bad_input_and_a_repeated_id_are_refused(self, api: Directory) -> None:
        await api.user("alice")

        bad_email = await api.call("POST", "/users", {"id": "bob", "name": "B", "email": "not-an-address"})
        unknown_field = await api.call("POST", "/users", {"id": "bob", "name": "B", "email": "b@x.io", "x": 1})
        repeated = await api.call("POST", "/users", {"id": "alice", "name": "A", "email": "a@x.io"})

        assert (bad_email.status_code, problem_fields(bad_email)) == (422, ["/body/email"])
        assert (unknown_field.status_code, problem_fields(unknown_field)) == (422, ["/body/x"])
        assert repeated.status_code == 409
        assert len(await api.items("/users")) == 1


class TestDepartments:
    async def test_departments_are_read_as_a_tree(self, api: Directory) -> None:
        await api.user("helen")
        await api.department("company")
        await api.department("sales", parent="company", head="helen")
        await api.department("east", parent="sales")
        await api.department("support", parent="company")

        tree = (await api.ok("GET", "/department-tree", user="bob", roles=()))["departments"]

        def shape(nodes: list[Any]) -> list[Any]:
            return [(n["id"], shape(n["children"])) for n in nodes]

        assert shape(tree) == [("company", [("sales", [("east", [])]), ("support", [])])]
        assert tree[0]["children"][0]["head_user_id"] == "helen"

    async def test_departments_are_listed_flat_by_name_page_by_page(self, api: Directory) -> None:
        await api.department("company")
        await api.department("sales", parent="company")
        await api.department("east", parent="sales")

        first = await api.ok("GET", "/departments?limit=2", user="bob", roles=())
        rest = await api.ok("GET", f"/departments?limit=2&cursor={first['next_cursor']}", user="bob", roles=())

        assert first["items"] == [
            {"id": "company", "name": "Company", "parent_id": None, "head_user_id": None},
            {"id": "east", "name": "East", "parent_id": "sales", "head_user_id": None},
        ]
        assert ([d["id"] for d in rest["items"]], rest["next_cursor"]) == (["sales"], None)

    async def test_a_move_that_would_close_a_cycle_is_refused(self, api: Directory) -> None:
        await api.department("company")
        await api.department("sales", parent="company")
        await api.department("east", parent="sales")

        under_itself = await api.call("PATCH", "/departments/company", {"parent_id": "east"})
        to_the_top = await api.ok("PATCH", "/departments/east", {"parent_id": None})

        assert (under_itself.status_code, problem_fields(under_itself)) == (422, ["/body/parent_id"])
        assert to_the_top["parent_id"] is None

    async def test_a_head_must_be_an_active_user_of_the_tenant(self, api: Directory) -> None:
        await api.department("sales")
        await api.user("gone")
        await api.ok("POST", "/users/gone/deactivate")

        for head in ("nobody", "gone"):
            response = await api.call("PATCH", "/departments/sales", {"head_user_id": head})
            assert (response.status_code, problem_fields(response)) == (422, ["/body/head_user_id"])

    async def test_only_an_empty_department_can_be_removed(self, api: Directory) -> None:
        await api.department("sales")
        await api.department("east", parent="sales")
        await api.user("alice", ["east"])

        with_a_user = await api.call("DELETE", "/departments/east")
        with_a_child = await api.call("DELETE", "/departments/sales")
        await api.ok("PATCH", "/users/alice", {"department_ids": []})
        emptied = await api.call("DELETE", "/departments/east")

        assert (with_a_user.status_code, with_a_child.status_code, emptied.status_code) == (409, 409, 204)
        assert [d["id"] for d in await api.items("/departments")] == ["sales"]
        assert (await api.call("DELETE", "/departments/east")).status_code == 404


class TestAbsences:
    async def test_an_absence_is_recorded_with_its_substitute_and_cancelled(self, api: Directory) -> None:
        await api.user("alice")
        await api.user("bob")
        period = {"starts_at": "2026-07-01T00:00:00Z", "ends_at": "2026-07-15T00:00:00Z"}

        recorded = await api.ok("POST", "/absences", {"user_id": "alice", "substitute_user_id": "bob", **period})
        cancelled = await api.ok("POST", f"/absences/{recorded['id']}/cancel")

        assert recorded["substitute_user_id"] == "bob" and recorded["cancelled"] is False
        assert {key: recorded[key] for key in period} == period  # instants written in UTC with Z
        assert cancelled["cancelled"] is True
        assert [a["cancelled"] for a in await api.items("/absences?user_id=alice", user="eve", roles=())] == [True]

    async def test_absences_are_listed_by_start_page_by_page(self, api: Directory) -> None:
        await api.user("alice")
        for day in ("03", "01", "02"):
            period = {"starts_at": f"2026-07-{day}T00:00:00Z", "ends_at": f"2026-07-{day}T12:00:00Z"}
            await api.ok("POST", "/absences", {"user_id": "alice", **period})

        first = await api.ok("GET", "/absences?limit=2")
        rest = await api.ok("GET", f"/absences?limit=2&cursor={first['next_cursor']}")

        assert [a["starts_at"][:10] for a in first["items"] + rest["items"]] == [
            "2026-07-01",
            "2026-07-02",
            "2026-07-03",
        ]
        assert rest["next_cursor"] is None

    async def test_an_absence_that_ends_before_it_starts_or_names_a_stranger_is_refused(self, api: Directory) -> None:
        await api.user("alice")

        backwards = await api.call(
            "POST",
            "/absences",
            {"user_id": "alice", "starts_at": "2026-07-15T00:00:00Z", "ends_at": "2026-07-01T00:00:00Z"},
        )
        stranger = await api.call(
            "POST",
            "/absences",
            {
                "user_id": "alice",
                "substitute_user_id": "nobody",
                "starts_at": "2026-07-01T00:00:00Z",
                "ends_at": "2026-07-02T00:00:00Z",
            },
        )

        assert problem_fields(backwards) == ["/body/ends_at"]
        assert problem_fields(stranger) == ["/body/substitute_user_id"]
        assert await api.items("/absences") == []


class TestRoleGrants:
    async def test_a_put_replaces_the_whole_matrix_of_the_role(self, api: Directory) -> None:
        first = {
            "grants": [
                {"entity_type_id": "docs", "actions": {"read": "own", "create": "all"}},
                {"entity_type_id": "docs", "pipeline_id": "secret", "actions": {"read": "none"}},
            ]
        }
        second = {"grants": [{"entity_type_id": "docs", "actions": {"read": "department_tree"}}]}

        assert await api.ok("PUT", "/roles/manager/grants", first) == {
            "grants": [
                {"entity_type_id": "docs", "pipeline_id": None, "actions": {"read": "own", "create": "all"}},
                {"entity_type_id": "docs", "pipeline_id": "secret", "actions": {"read": "none"}},
            ]
        }
        await api.ok("PUT", "/roles/manager/grants", second)

        assert await api.ok("GET", "/roles/manager/grants") == {
            "grants": [
                {"entity_type_id": "docs", "pipeline_id": None, "actions": {"read": "department_tree"}},
            ]
        }

    async def test_an_unknown_scope_or_a_line_given_twice_is_refused(self, api: Directory) -> None:
        unknown = await api.call(
            "PUT", "/roles/manager/grants", {"grants": [{"entity_type_id": "docs", "actions": {"read": "everything"}}]}
        )
        twice = await api.call(
            "PUT",
            "/roles/manager/grants",
            {
                "grants": [
                    {"entity_type_id": "docs", "actions": {"read": "all"}},
                    {"entity_type_id": "docs", "actions": {}},
                ]
            },
        )

        assert (unknown.status_code, problem_fields(unknown)) == (422, ["/body/grants/0/actions/read"])
        assert (twice.status_code, problem_fields(twice)) == (422, ["/body/grants/1"])
        assert await api.ok("GET", "/roles/manager/grants") == {"grants": []}


class TestAccess:
    async def test_without_a_token_every_directory_endpoint_is_401(self, api: Directory) -> None:
        for method, path in [
            ("GET", "/users"),
            ("POST", "/users"),
            ("GET", "/departments"),
            ("GET", "/department-tree"),
            ("GET", "/absences"),
            ("PUT", "/roles/r/grants"),
        ]:
            response = await api.client.request(method, f"/v1/directory{path}", json={})
            assert response.status_code == 401, (method, path)

    async def test_only_admins_change_the_directory_or_read_grants(self, api: Directory) -> None:
        await api.user("alice")
        manager = {"user": "alice", "roles": ("manager",)}

        attempts = [
            await api.call("POST", "/users", {"id": "x", "name": "X", "email": "x@x.io"}, **manager),
            await api.call("PATCH", "/users/alice", {"roles": ["admin"]}, **manager),
            await api.call("POST", "/departments", {"name": "D"}, **manager),
            await api.call("PUT", "/roles/manager/grants", {"grants": []}, **manager),
            await api.call("GET", "/roles/manager/grants", **manager),
        ]

        assert [r.status_code for r in attempts] == [403] * 5
        assert (await api.ok("GET", "/users/alice"))["roles"] == []

    async def test_another_tenant_sees_nothing_and_its_ids_answer_404(self, api: Directory) -> None:
        await api.department("sales")
        await api.user("alice", ["sales"])
        other = {"tenant": f"other-{uuid.uuid4().hex[:8]}"}

        assert await api.items("/users", **other) == []
        assert await api.items("/departments", **other) == []
        assert await api.ok("GET", "/department-tree", **other) == {"departments": []}
        assert (await api.call("GET", "/users/alice", **other)).status_code == 404
        assert (await api.call("PATCH", "/users/alice", {"name": "Mallory"}, **other)).status_code == 404
        assert (await api.call("DELETE", "/departments/sales", **other)).status_code == 404
        assert (await api.ok("GET", "/users/alice"))["name"] == "Alice"


class TestEventsReachKafka:
    async def test_every_change_is_published_with_its_type_on_its_aggregates_topic(
        self, api: Directory, infra: Any
    ) -> None:
        await api.department("sales")
        await api.user("alice", ["sales"])
        await api.ok("PATCH", "/users/alice", {"roles": ["manager"]})
        absence = await api.ok(
            "POST",
            "/absences",
            {"user_id": "alice", "starts_at": "2026-07-01T00:00:00Z", "ends_at": "2026-07-02T00:00:00Z"},
        )
        await api.ok(
            "PUT", "/roles/manager/grants", {"grants": [{"entity_type_id": "docs", "actions": {"read": "own"}}]}
        )

        published = await tenant_events(infra.kafka_bootstrap, api.tenant, expected=5)

        assert published == {
            ("conveyor.entities.department", "conveyor.entities.department.created.v1"),
            ("conveyor.entities.user", "conveyor.entities.user.registered.v1"),
            ("conveyor.entities.user", "conveyor.entities.user.changed.v1"),
            ("conveyor.entities.absence", "conveyor.entities.absence.recorded.v1"),
            ("conveyor.entities.role", "conveyor.entities.role.grants_set.v1"),
        }
        assert absence["id"]


async def tenant_events(bootstrap: str, tenant: str, *, expected: int, within: float = 30.0) -> set[tuple[str, str]]:
    """(topic, ce_type) of the tenant's directory events on Kafka, once ``expected`` have arrived."""
    from aiokafka import AIOKafkaConsumer

    topics = [f"conveyor.entities.{aggregate}" for aggregate in ("user", "department", "absence", "role")]
    consumer = AIOKafkaConsumer(*topics, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    seen: list[tuple[str, str]] = []
    try:
        async with asyncio.timeout(within):
            async for record in consumer:
                headers = {key: value.decode() for key, value in record.headers}
                if headers.get("ce_tenantid") == tenant:
                    seen.append((record.topic, headers["ce_type"]))
                if len(seen) >= expected:
                    break
    except TimeoutError:
        raise AssertionError(f"only {seen} arrived within {within}s") from None
    finally:
        await consumer.stop()
    return set(seen)


@pytest.fixture
async def copy_database(infra: Any) -> AsyncIterator[str]:
    """A second service's database with the backbone and directory tables (fresh_database is the app's)."""
    name = f"t_copy_{uuid.uuid4().hex}"
    admin = await asyncpg.connect(infra.postgres_dsn)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        conn = await asyncpg.connect(infra.dsn_for(name))
        await conn.execute(BACKBONE_DDL + DIRECTORY_DDL_V1)
        await conn.close()
        yield infra.dsn_for(name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


class TestAnotherServicesCopy:
    async def test_a_service_following_the_directory_topics_answers_the_same_questions(
        self, api: Directory, infra: Any, copy_database: str
    ) -> None:
        await api.user("helen")
        await api.department("sales", head="helen")
        await api.user("alice", ["sales"], ["manager"])
        conn = await asyncpg.connect(copy_database)
        pool = await asyncpg.create_pool(copy_database, min_size=1, max_size=2)
        # The routing-table entry docs/directory-and-access.md gives every other service.
        backbone = Backbone(
            service=f"copy-{uuid.uuid4().hex[:8]}",
            pool=pool,
            bootstrap_servers=infra.kafka_bootstrap,
            subscriptions=[Subscription("directory", DIRECTORY_TOPICS, route(DIRECTORY_HANDLERS))],
        )
        await backbone.start()
        try:
            async with asyncio.timeout(30):
                while await head_of_department_of(conn, api.tenant, "alice") != "helen":
                    await asyncio.sleep(0.1)
            assert await users_with_role(conn, api.tenant, "manager") == ["alice"]
        finally:
            await backbone.stop()
            await pool.close()
            await conn.close()
