"""The bench tenant, built through the public APIs: a department with managers, a deal type with
fields, its pipeline with two robot stages, the robots, and a few thousand deals on the board."""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field
from typing import Any

from api import Api
from items import ROBOT_STAGES, Item

REGIONS = ("north", "south", "east", "west", "centre")
MANAGERS = 20


def manager(n: int) -> tuple[str, tuple[str, ...]]:
    return (f"manager-{n % MANAGERS + 1}", ("manager",))


@dataclass
class Tenant:
    type_id: str = ""
    pipeline_id: str = ""
    stages: dict[str, str] = field(default_factory=dict)  # "new", "qualified", "proposal", … → stage id
    seeded: list[Item] = field(default_factory=list)


async def until(probe: Any, accept: Any, what: str, within: float = 120) -> Any:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        value = await probe()
        if accept(value):
            return value
        await asyncio.sleep(0.25)
    raise TimeoutError(f"waited {within:.0f} s for {what}")


async def _directory(api: Api) -> None:
    await api.ok("entities", "POST", "/v1/directory/departments", {"id": "sales", "name": "Sales"})
    users = [("head-1", "Irina Head")] + [(f"manager-{n}", f"Manager {n}") for n in range(1, MANAGERS + 1)]
    for user_id, name in users:
        body = {"id": user_id, "name": name, "email": f"{user_id}@example.test", "department_ids": ["sales"]}
        await api.ok("entities", "POST", "/v1/directory/users", body)
    await api.ok("entities", "PATCH", "/v1/directory/departments/sales", {"head_user_id": "head-1"})


async def _deal_type(api: Api, tenant: Tenant) -> None:
    deal = await api.ok("entities", "POST", "/v1/entity-types", {"code": "deal", "name": "Deal"})
    tenant.type_id = deal["id"]
    fields = [
        {"code": "region", "label": "Region", "kind": "list", "options": [{"label": r.title()} for r in REGIONS]},
        {"code": "stage_mark", "label": "Set by robots", "kind": "string"},
        {"code": "note", "label": "Note", "kind": "string"},
    ]
    for body in fields:
        await api.ok("entities", "POST", f"/v1/entity-types/{tenant.type_id}/fields", body)
    grants = {
        "grants": [{"entity_type_id": tenant.type_id, "actions": {"read": "own", "create": "own", "update": "own"}}]
    }
    await api.ok("entities", "PUT", "/v1/directory/roles/manager/grants", grants)


async def _pipeline(api: Api, tenant: Tenant) -> None:
    listed = await until(  # a 404 until pipelines hears of the type
        lambda: api.call("pipelines", "GET", "/v1/pipelines", params={"entity_type_id": tenant.type_id}),
        lambda r: r.status_code == 200 and len(r.json()["items"]) == 1,
        "the deal type's default pipeline",
    )
    (pipeline,) = listed.json()["items"]
    tenant.pipeline_id = pipeline["id"]
    by_name = {s["name"]: s["id"] for s in pipeline["stages"]}
    for name in ROBOT_STAGES:
        added = await api.ok("pipelines", "POST", f"/v1/pipelines/{tenant.pipeline_id}/stages", {"name": name.title()})
        by_name[name.title()] = added["id"]
    order = ["New", "Qualified", "Proposal", "In progress", "Won", "Lost"]
    await api.ok(
        "pipelines",
        "PUT",
        f"/v1/pipelines/{tenant.pipeline_id}/stage-order",
        {"stage_ids": [by_name[n] for n in order]},
    )
    tenant.stages = {name.lower(): by_name[name] for name in order}


async def _robots(api: Api, tenant: Tenant) -> None:
    """A robot on each robot stage sets `stage_mark` to the stage's name (the effect the bench times);
    the proposal stage also notifies the assignee, so the notifications service has work too."""
    for stage in ROBOT_STAGES:
        robot = {
            "pipeline_id": tenant.pipeline_id, "stage_id": tenant.stages[stage], "name": f"Mark {stage}",
            "action": {"type": "set_fields", "fields": {"stage_mark": stage}},
        }  # fmt: skip
        await api.ok("automation", "POST", "/v1/robots", robot)
    notify = {
        "pipeline_id": tenant.pipeline_id, "stage_id": tenant.stages["proposal"], "name": "Tell the manager",
        "action": {"type": "notify", "recipients": [{"kind": "assignee"}],
                   "body": "{{ item.title }} is at the proposal stage"},
    }  # fmt: skip
    await api.ok("automation", "POST", "/v1/robots", notify)


def deal_body(tenant: Tenant, n: int) -> dict[str, Any]:
    return {
        "entity_type_id": tenant.type_id,
        "title": f"Deal {n}",
        "assignee_id": manager(n)[0],
        "amount": str(random.randint(100, 100_000)),
        "currency": "EUR",
        "fields": {"region": random.choice(REGIONS).title(), "note": "seeded"},
    }


async def _deals(api: Api, tenant: Tenant, count: int, concurrency: int = 16) -> None:
    numbers = iter(range(count))

    async def worker() -> None:
        for n in numbers:
            created = await api.ok("entities", "POST", "/v1/items", deal_body(tenant, n))
            tenant.seeded.append(Item(created["id"]))

    await asyncio.gather(*(worker() for _ in range(concurrency)))

    async def on_new_stage() -> int:
        board = await api.ok("pipelines", "GET", f"/v1/pipelines/{tenant.pipeline_id}/board", params={"limit": 1})
        return sum(
            column["count"] for column in board["columns"] if column["stage"]["stage_id"] == tenant.stages["new"]
        )

    await until(on_new_stage, lambda n: n == count, f"{count} deals placed on the board", within=600)
    for item in tenant.seeded:
        item.pipeline_version = 1  # placed, never moved


async def seed(api: Api, items: int) -> Tenant:
    tenant = Tenant()
    await _directory(api)
    await _deal_type(api, tenant)
    await _pipeline(api, tenant)
    await _robots(api, tenant)
    await _deals(api, tenant, items)
    return tenant
