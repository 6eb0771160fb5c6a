"""Nobody sees what their tenant and scope do not allow: every operation of every service is walked as
another tenant's admin (with the same user ids) and as users of narrower scopes, plus the live stream
and outgoing webhooks. Single items answer 404; lists, exports and reports leave the rest out.

Both tenants are seeded through the public APIs (security_seed.py) and every text of theirs carries a
marker, so a leak is a substring search; the operations come from the OpenAPI documents, so an
operation nobody classified in leak_probes.py fails the walk before it starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from fuzz_profile import openapi_of
from leak_probes import PROBES, Expect, Probe
from security_api import As, settle
from security_seed import ADMIN, BPMN, LEAD, REP, Tenant, move_every_deal_on, seed_tenant, wait_for_the_effects
from security_stack import SERVICES, Receiver, ServiceStack, bearer

pytestmark = [pytest.mark.security, pytest.mark.integration]

# A path parameter named alike in two services means different things there.
PER_SERVICE_IDS = {
    "automation": {"template_id": "process_template_id"},
    "notifications": {"template_id": "notification_template_id"},
}


class Worlds:
    def __init__(self, http: httpx.AsyncClient, stack: ServiceStack, a: Tenant, b: Tenant, hooks: list[str]) -> None:
        self.http, self.stack, self.a, self.b = http, stack, a, b
        self.hooks = hooks  # the receiver's path of each tenant's subscription

    def caller(self, tenant: Tenant, user: str, *roles: str) -> As:
        return As(self.stack, self.http, tenant.tenant, user, roles)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def worlds(stack: ServiceStack, receiver: Receiver) -> AsyncIterator[Worlds]:
    async with httpx.AsyncClient(timeout=30) as http:
        run = uuid.uuid4().hex[:6]
        seeded: list[Tenant] = []
        hooks = [f"/hook/a-{run}", f"/hook/b-{run}"]
        for name, hook in zip("ab", hooks, strict=True):
            admin = As(stack, http, f"leak-{name}-{run}", ADMIN, ("admin",))
            seeded.append(await seed_tenant(admin, f"mark{name.upper()}{run}", receiver.url(hook)))
        for world in seeded:
            await move_every_deal_on(As(stack, http, world.tenant, ADMIN, ("admin",)), world)
        for world in seeded:
            await wait_for_the_effects(As(stack, http, world.tenant, ADMIN, ("admin",)), world)
        yield Worlds(http, stack, seeded[0], seeded[1], hooks)


# The kit's routes every service answers but only entities documents (`/v1/whoami`) or none does
# (`/health/*`, for the orchestrator): hidden from the documents, still reachable, so still probed.
KIT_ROUTES = ("GET /health/live", "GET /health/ready", "GET /v1/whoami")


def _operations() -> set[str]:
    documented = {
        f"{service} {method.upper()} {path}"
        for service in SERVICES
        for path, methods in openapi_of(service)["paths"].items()
        for method in methods
    }
    return documented | {f"{service} {route}" for service in SERVICES for route in KIT_ROUTES}


def _request(operation: str, probe: Probe, ids: dict[str, str]) -> tuple[str, str, str, dict[str, Any]]:
    service, method, template = operation.split(" ", 2)
    names = {name: ids[key] for name, key in PER_SERVICE_IDS.get(service, {}).items()}
    path = template.format_map({**ids, **names})
    kwargs: dict[str, Any] = {}
    if probe.query:
        kwargs["params"] = probe.query(ids)
    if probe.headers:
        kwargs["headers"] = dict(probe.headers)
    if probe.body:
        kwargs["json"] = probe.body(ids)
    return service, method, path, kwargs


def _betrayed(world: Tenant, response: httpx.Response, sent: str) -> list[str]:
    """What of ``world`` the response shows, leaving out what the request itself named."""
    text = response.text
    return [secret for secret in world.betrayals() if secret in text and secret not in sent]


class TestAnotherTenant:
    def test_every_operation_of_every_service_is_classified(self) -> None:
        operations = _operations()

        assert sorted(operations - PROBES.keys()) == [], "classify these in leak_probes.py"
        assert sorted(PROBES.keys() - operations) == [], "these operations no longer exist"

    async def test_another_tenants_admin_with_the_same_user_ids_sees_nothing(
        self, worlds: Worlds, receiver: Receiver
    ) -> None:
        a, outsider = worlds.a, worlds.caller(worlds.b, ADMIN, "admin")
        failures: list[str] = []
        for operation, probe in sorted(PROBES.items()):
            if probe.expect is Expect.STREAM:
                continue
            service, method, path, kwargs = _request(operation, probe, a.ids)
            kwargs = _outsiders_own(operation, kwargs, worlds.b, receiver)
            if probe.expect is Expect.CREDENTIAL:
                path = path.replace(a.ids["secret"], "not-the-secret").replace(a.ids["token"], "not-the-token")
            response = await outsider.call(service, method, path, **kwargs)
            sent = path + json.dumps(kwargs, default=str)
            leaked = _betrayed(a, response, sent)
            status = response.status_code
            wanted = {Expect.GONE: {404}, Expect.CREDENTIAL: {404}, Expect.REFUSED: {403, 404, 422}}.get(probe.expect)
            if leaked or status >= 500 or (wanted is not None and status not in wanted):
                failures.append(f"{operation}: {status} showing {leaked}: {response.text[:300]}")

        assert not failures, "\n".join(failures)

    async def test_the_walk_changed_nothing_of_the_other_tenant(self, worlds: Worlds) -> None:
        a, admin = worlds.a, worlds.caller(worlds.a, ADMIN, "admin")

        template = await admin.ok("notifications", "GET", f"/v1/templates/{a.ids['notification_template_id']}")
        deal = await admin.ok("entities", "GET", f"/v1/items/{a.ids['item_id']}")
        user = await admin.ok("entities", "GET", f"/v1/directory/users/{a.ids['user_id']}")
        settings = await admin.ok("notifications", "GET", "/v1/settings")
        grants = await admin.ok("entities", "GET", "/v1/directory/roles/rep/grants")
        alice = worlds.caller(a, "alice", REP)
        unread = await alice.ok("notifications", "GET", f"/v1/notifications/{a.ids['notification_id']}")

        assert a.marker in template["name"] and a.marker in deal["title"] and user["active"] is True
        assert settings["stage_change_notifications"] is True
        assert grants["grants"], "the outsider's PUT of role rep's grants reached this tenant"
        assert unread["read"] is False


class TestNarrowerScopes:
    async def test_an_item_outside_the_callers_scope_is_404_everywhere(self, worlds: Worlds) -> None:
        a = worlds.a
        failures = []
        for user, role, hidden_from in [("alice", REP, "bob"), ("carol", LEAD, "dave")]:
            caller = worlds.caller(a, user, role)
            ids = {**a.ids, "item_id": a.items[hidden_from]}
            for operation, probe in sorted(PROBES.items()):
                if not probe.item_scoped:
                    continue
                service, method, path, kwargs = _request(operation, probe, ids)
                response = await caller.call(service, method, path, **kwargs)
                if response.status_code != 404:
                    failures.append(f"{user} on {hidden_from}'s item, {operation}: {response.status_code}")

        assert not failures, "\n".join(failures)

    async def test_lists_exports_and_reports_leave_out_what_the_scope_hides(self, worlds: Worlds) -> None:
        a = worlds.a
        failures = []
        for user, role, visible, hidden in [
            ("alice", REP, ["alice"], ["bob", "carol", "dave"]),
            ("carol", LEAD, ["alice", "bob", "carol"], ["dave"]),
        ]:
            caller = worlds.caller(a, user, role)
            hidden_texts = [t for h in hidden for t in (a.items[h], f"Deal of {h} {a.marker}")]
            for operation, probe in sorted(PROBES.items()):
                if not probe.lists_items:
                    continue
                service, method, path, kwargs = _request(operation, probe, a.ids)
                response = await caller.call(service, method, path, **kwargs)
                shown = [text for text in hidden_texts if text in response.text]
                if response.status_code >= 300 or shown:
                    failures.append(f"{user}, {operation}: {response.status_code} showing {shown}")
            visible_count = await _counts(caller, a)
            if visible_count != {"board": len(visible), "funnel": len(visible)}:
                failures.append(f"{user} counts {visible_count}, expected {len(visible)} (of {visible})")

        assert not failures, "\n".join(failures)


async def _counts(caller: As, a: Tenant) -> dict[str, int]:
    """How many deals the caller's board column and funnel count in the "in progress" stage."""
    board = await caller.ok("pipelines", "GET", f"/v1/pipelines/{a.ids['pipeline_id']}/board")
    column = next(c for c in board["columns"] if c["stage"]["id"] == a.ids["stage_progress"])
    funnel = await caller.ok("reporting", "GET", "/v1/reports/funnel", params={"pipeline_id": a.ids["pipeline_id"]})
    row = next(r for r in funnel["rows"] if r["stage_id"] == a.ids["stage_progress"])
    return {"board": column["count"], "funnel": row["reached"]}


def _outsiders_own(operation: str, kwargs: dict[str, Any], b: Tenant, receiver: Receiver) -> dict[str, Any]:
    """Bodies that are the outsider's own things rather than references to the other tenant's."""
    if operation == "entities POST /v1/imports/files":
        return {"content": b"Title\nOutsider\n", "headers": {"Content-Type": "text/csv"}}
    if operation == "automation POST /v1/process-templates":
        bpmn = BPMN.replace("MARKER", "outsider")
        return {
            "json": {"name": "Outsider", "entity_type_id": b.ids["type_id"], "bpmn": bpmn, "start": {"mode": "manual"}}
        }
    if operation == "automation PUT /v1/process-templates/{template_id}":
        bpmn = BPMN.replace("MARKER", "outsider")
        return {
            "json": {"name": "Outsider", "entity_type_id": b.ids["type_id"], "bpmn": bpmn, "start": {"mode": "manual"}},
            "headers": kwargs["headers"],
        }
    if operation == "notifications POST /v1/webhooks/subscriptions":
        return {"json": {"url": receiver.url("/hook/outsider"), "event_types": ["*"]}}
    return kwargs


class TestLiveAndOutgoing:
    async def test_the_live_stream_carries_only_the_callers_own_notifications(self, worlds: Worlds) -> None:
        a, b = worlds.a, worlds.b
        listeners = {
            "a/alice": worlds.caller(a, "alice", REP),
            "a/bob": worlds.caller(a, "bob", REP),
            "b/alice": worlds.caller(b, "alice", REP),
        }
        received: dict[str, list[str]] = {name: [] for name in listeners}
        async with contextlib.AsyncExitStack() as streams:
            for name, caller in listeners.items():
                await streams.enter_async_context(_listening(caller, received[name]))
            await asyncio.sleep(0.5)  # every stream subscribed before the notification is made
            admin = worlds.caller(a, ADMIN, "admin")
            item = await admin.ok("pipelines", "GET", f"/v1/placements/{a.items['alice']}")
            await admin.ok(
                "pipelines",
                "POST",
                f"/v1/placements/{a.items['alice']}/move",
                {"to_stage_id": a.ids["stage_id"]},
                headers={"If-Match": f'"{item["version"]}"'},
            )
            await settle(lambda: _value(received["a/alice"]), lambda got: len(got) >= 1)

        assert received["a/alice"], "the assignee's stream never received the stage change"
        assert all(a.marker in line for line in received["a/alice"])
        assert received["a/bob"] == [] and received["b/alice"] == []

    async def test_webhooks_deliver_only_events_of_the_subscribers_tenant(
        self, worlds: Worlds, receiver: Receiver
    ) -> None:
        a, b = worlds.a, worlds.b
        delivered_to_a = await settle(lambda: _value(receiver.bodies(worlds.hooks[0])), lambda got: len(got) > 0)
        delivered_to_b = receiver.bodies(worlds.hooks[1])

        assert delivered_to_a, "the tenant's own subscription received nothing: the test could not see a leak"
        assert all(json.loads(body)["tenant_id"] == a.tenant for body in delivered_to_a)
        assert delivered_to_b and all(json.loads(body)["tenant_id"] == b.tenant for body in delivered_to_b)
        assert not any(a.marker.encode() in body for body in delivered_to_b)


async def _value(value: Any) -> Any:
    return value


@contextlib.asynccontextmanager
async def _listening(caller: As, into: list[str]) -> AsyncIterator[None]:
    """Reads the caller's SSE stream in the background, keeping each `data:` line."""

    async def read() -> None:
        headers = {"Authorization": f"Bearer {_token(caller)}"}
        url = caller.stack.urls["notifications"] + "/v1/notifications/stream"
        async with caller.http.stream("GET", url, headers=headers, timeout=None) as response:
            async for line in response.aiter_lines():
                if line.startswith("data:"):
                    into.append(line)

    task = asyncio.create_task(read())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, httpx.HTTPError):
            await task


def _token(caller: As) -> str:
    return bearer(caller.tenant, caller.user, *caller.roles)["Authorization"].removeprefix("Bearer ")
