"""The tenant a fault test works in, reached through the public HTTP APIs as its admin.

`Board.set_up` defines a "Deal" type, waits for its default pipeline (New, In progress, Won, Lost),
adds a robot that notifies the assignee whenever an item enters "In progress" and a robot that sets
a field when it enters "Won", and turns stage-change notifications on. `Api` makes the requests; a
refused or cut connection and a 5xx raise `Unanswered`, which callers retry.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx
from faults_cluster import Cluster

ADMIN = "admin-1"
ASSIGNEE = "manager-1"
STAGES = ("New", "In progress", "Won", "Lost")


class Unanswered(Exception):
    """A request that got no usable answer (connection refused or cut, 5xx); try again later."""


@dataclass
class Api:
    """Requests as one user of the tenant to any service of the cluster."""

    cluster: Cluster
    tenant: str
    user: str = ADMIN
    roles: tuple[str, ...] = ("admin",)
    outcomes: Counter[str] = field(default_factory=Counter)

    async def call(self, service: str, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.cluster.token(self.tenant, self.user, *self.roles)}"}
        headers.update(kwargs.pop("headers", {}))
        try:
            response = await self.cluster.http.request(
                method, self.cluster.url(service) + path, json=body, headers=headers, **kwargs
            )
        except httpx.TransportError as error:
            self.outcomes[f"{service} {type(error).__name__}"] += 1
            raise Unanswered(repr(error)) from error
        self.outcomes[f"{service} {response.status_code}"] += 1
        if response.status_code >= 500:
            raise Unanswered(f"{method} {path}: {response.status_code} {response.text[:200]}")
        return response

    async def ok(self, service: str, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = await self.call(service, method, path, body, **kwargs)
        assert response.status_code < 300, f"{service} {method} {path}: {response.status_code} {response.text}"
        return response.json() if response.content else None


async def until(probe: Any, accept: Any, within: float = 60.0, every: float = 0.2) -> Any:
    deadline = time.monotonic() + within
    value = None
    while time.monotonic() < deadline:
        with contextlib.suppress(Unanswered):
            value = await probe()
            if accept(value):
                return value
        await asyncio.sleep(every)
    raise AssertionError(f"never happened within {within:g}s; last value {value!r}")


@dataclass
class Board:
    """The tenant's type, pipeline, stages and robots."""

    api: Api
    type_id: str
    pipeline_id: str
    stages: dict[str, str]  # name → stage id
    notify_robot: str
    close_robot: str

    @property
    def tenant(self) -> str:
        return self.api.tenant

    @classmethod
    async def set_up(cls, cluster: Cluster, tenant: str | None = None) -> Board:
        api = Api(cluster, tenant or f"faults-{uuid.uuid4().hex[:8]}")
        deal = await api.ok("entities", "POST", "/v1/entity-types", {"code": "deal", "name": "Deal"})
        for spec in ({"code": "step", "label": "Step", "kind": "integer"},
                     {"code": "closed_by", "label": "Closed by", "kind": "string"}):  # fmt: skip
            await api.ok("entities", "POST", f"/v1/entity-types/{deal['id']}/fields", spec)

        async def pipelines() -> list[dict[str, Any]]:
            response = await api.call("pipelines", "GET", "/v1/pipelines", params={"entity_type_id": deal["id"]})
            return list(response.json()["items"]) if response.status_code == 200 else []

        (general,) = await until(pipelines, lambda found: len(found) == 1)
        stages = {s["name"]: s["id"] for s in general["stages"]}
        assert tuple(stages) == STAGES, stages
        pipeline = general["id"]
        notify = await api.ok("automation", "POST", "/v1/robots", {
            "pipeline_id": pipeline, "stage_id": stages["In progress"], "name": "Tell the assignee",
            "action": {"type": "notify", "recipients": [{"kind": "assignee"}],
                       "body": "{{ item.title }} is in progress"},
        })  # fmt: skip
        close = await api.ok("automation", "POST", "/v1/robots", {
            "pipeline_id": pipeline, "stage_id": stages["Won"], "name": "Mark as closed",
            "action": {"type": "set_fields", "fields": {"closed_by": "robot"}},
        })  # fmt: skip
        await api.ok("notifications", "PUT", "/v1/settings", {"stage_change_notifications": True})
        return cls(api, deal["id"], pipeline, stages, notify["id"], close["id"])
